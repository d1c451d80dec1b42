using System.Runtime.CompilerServices;
using Microsoft.Extensions.AI;

namespace Gateway.Providers.Simulated;

/// <summary>
/// A built-in provider that needs no network or key: <c>echo</c> and <c>lorem</c>, one token every
/// <c>TokenDelayMs</c>, usage counted in whitespace-separated words. Cancellation stops it at once.
/// </summary>
internal sealed class SimulatedChatClient(string providerName, TimeSpan tokenDelay, TimeProvider timeProvider) : IChatClient
{
    public async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(
        IEnumerable<ChatMessage> messages,
        ChatOptions? options = null,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var model = options?.ModelId ?? SimulatedModels.Echo;
        var messageList = messages as IReadOnlyList<ChatMessage> ?? messages.ToList();
        var (tokens, finishReason) = Plan(model, messageList, options?.MaxOutputTokens);
        var responseId = "sim-" + Guid.NewGuid().ToString("N");
        var createdAt = timeProvider.GetUtcNow();
        var stops = StopSequenceCutter.For(options?.StopSequences);
        ChatResponseUpdate Update(string text) => new(ChatRole.Assistant, text) { ResponseId = responseId, ModelId = model, CreatedAt = createdAt };

        // Usage counts the words sent: each token is one, unless a stop sequence cuts the text (then counted as sent).
        var wordsSent = 0;
        var inWord = false;
        for (var i = 0; i < tokens.Count; i++)
        {
            if (tokenDelay > TimeSpan.Zero)
            {
                await Task.Delay(tokenDelay, timeProvider, cancellationToken).ConfigureAwait(false);
            }

            cancellationToken.ThrowIfCancellationRequested();
            var stopped = false;
            var text = stops is null ? tokens[i] : stops.Take(tokens[i], out stopped);
            wordsSent += stops is null ? 1 : WordTokens.Count(text, ref inWord);
            if (text.Length > 0)
            {
                yield return Update(text);
            }

            if (stopped)
            {
                finishReason = ChatFinishReason.Stop;
                break;
            }
        }

        if (stops is { Rest.Length: > 0 })
        {
            wordsSent += WordTokens.Count(stops.Rest, ref inWord);
            yield return Update(stops.Rest);
        }

        var inputWords = 0;
        foreach (var message in messageList)
        {
            inputWords += WordTokens.Count(message.Text);
        }

        yield return new ChatResponseUpdate
        {
            Role = ChatRole.Assistant,
            ResponseId = responseId,
            ModelId = model,
            CreatedAt = createdAt,
            FinishReason = finishReason,
            Contents = [new UsageContent(new UsageDetails
            {
                InputTokenCount = inputWords,
                OutputTokenCount = wordsSent,
                TotalTokenCount = inputWords + wordsSent,
            })],
        };
    }

    public async Task<ChatResponse> GetResponseAsync(
        IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default) =>
        await GetStreamingResponseAsync(messages, options, cancellationToken).ToChatResponseAsync(cancellationToken).ConfigureAwait(false);

    private (IReadOnlyList<string> Tokens, ChatFinishReason FinishReason) Plan(string model, IReadOnlyList<ChatMessage> messages, int? maxTokens)
    {
        switch (model)
        {
            case SimulatedModels.Echo:
                var lastUser = messages.LastOrDefault(m => m.Role == ChatRole.User)?.Text ?? "";
                var words = WordTokens.Split(lastUser);
                if (maxTokens is { } limit && limit < words.Count)
                {
                    return (words.GetRange(0, limit), ChatFinishReason.Length);
                }

                return (words, ChatFinishReason.Stop);
            case SimulatedModels.Lorem:
                // Made one at a time as the stream reaches them: a long run must not hold its whole text before its first token.
                return (new LoremWords(maxTokens ?? SimulatedModels.DefaultLoremWords), maxTokens is null ? ChatFinishReason.Stop : ChatFinishReason.Length);
            default:
                throw new UpstreamException(
                    UpstreamFailure.Status,
                    $"The simulated provider '{providerName}' has no model '{model}'.",
                    System.Net.HttpStatusCode.NotFound)
                { UpstreamCode = "model_not_found" };
        }
    }

    public object? GetService(Type serviceType, object? serviceKey = null) =>
        serviceKey is null && serviceType.IsInstanceOfType(this) ? this : null;

    public void Dispose()
    {
    }
}

/// <summary>The first <paramref name="count"/> words of lorem ipsum, each made when it is read.</summary>
internal sealed class LoremWords(int count) : IReadOnlyList<string>
{
    public int Count => count;

    public string this[int index] => (uint)index < (uint)count ? LoremIpsum.Token(index) : throw new ArgumentOutOfRangeException(nameof(index));

    public IEnumerator<string> GetEnumerator()
    {
        for (var i = 0; i < count; i++)
        {
            yield return LoremIpsum.Token(i);
        }
    }

    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
}
