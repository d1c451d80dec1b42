using System.Runtime.CompilerServices;
using Gateway.Providers.Tools;
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
        if (ChatOptionKeys.AsksForJson(options))
        {
            // Its answers are words, not JSON: refused as a provider refuses what a model does not do, not answered unasked.
            throw new UpstreamException(
                UpstreamFailure.Status, $"The simulated model '{model}' answers in words: it cannot answer in JSON ('response_format').", System.Net.HttpStatusCode.BadRequest)
            { UpstreamCode = "unsupported_parameter", UpstreamParam = "response_format" };
        }

        if (ImagePart.FirstPlace(messageList, static _ => true) is { } image)
        {
            // Nor can it see: answered from the text alone, the caller would take the answer for one that saw the image.
            throw new UpstreamException(
                UpstreamFailure.Status, $"The simulated model '{model}' reads text only: it cannot see the image at '{image}'.", System.Net.HttpStatusCode.BadRequest)
            { UpstreamCode = "unsupported_parameter", UpstreamParam = image };
        }

        var responseId = "sim-" + Guid.NewGuid().ToString("N");
        var createdAt = timeProvider.GetUtcNow();
        ChatResponseUpdate Update(AIContent content) => new(ChatRole.Assistant, [content]) { ResponseId = responseId, ModelId = model, CreatedAt = createdAt };
        ChatResponseUpdate Finished(ChatFinishReason reason, int outputWords)
        {
            var finished = Update(new UsageContent(Usage(messageList, outputWords)));
            finished.FinishReason = reason;
            return finished;
        }

        if (FunctionToCall(options) is { } function)
        {
            await DelayAsync(cancellationToken).ConfigureAwait(false);
            yield return Update(new RawToolCall(0, RawToolCall.NewId(), function, CallArguments));
            yield return Finished(ChatFinishReason.ToolCalls, outputWords: 1);
            yield break;
        }

        var stops = StopSequenceCutter.For(options?.StopSequences);

        // Usage counts the words sent, as sent (a stop sequence may cut the text). Not a word a token: the one token of a
        // text of whitespace alone holds none.
        var wordsSent = 0;
        var inWord = false;
        for (var i = 0; i < tokens.Count; i++)
        {
            await DelayAsync(cancellationToken).ConfigureAwait(false);
            var stopped = false;
            var text = stops is null ? tokens[i] : stops.Take(tokens[i], out stopped);
            wordsSent += WordTokens.Count(text, ref inWord);
            if (text.Length > 0)
            {
                yield return Update(new TextContent(text));
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
            yield return Update(new TextContent(stops.Rest));
        }

        yield return Finished(finishReason, wordsSent);
    }

    private async Task DelayAsync(CancellationToken cancellationToken)
    {
        if (tokenDelay > TimeSpan.Zero)
        {
            await Task.Delay(tokenDelay, timeProvider, cancellationToken).ConfigureAwait(false);
        }

        cancellationToken.ThrowIfCancellationRequested();
    }

    /// <summary>Usage in words: the prompt's, and the answer's as sent.</summary>
    private static UsageDetails Usage(IReadOnlyList<ChatMessage> messages, int outputWords)
    {
        var inputWords = 0;
        foreach (var message in messages)
        {
            inputWords += WordTokens.Count(message.Text);
        }

        return new UsageDetails { InputTokenCount = inputWords, OutputTokenCount = outputWords, TotalTokenCount = inputWords + outputWords };
    }

    public async Task<ChatResponse> GetResponseAsync(
        IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default) =>
        await GetStreamingResponseAsync(messages, options, cancellationToken).ToChatResponseAsync(cancellationToken).ConfigureAwait(false);

    /// <summary>What a simulated model passes the function it is told to call: it knows nothing of the function's schema.</summary>
    private const string CallArguments = "{}";

    /// <summary>
    /// The function a simulated model calls: the one <c>tool_choice</c> names, or the first when it requires a call.
    /// Left to choose, it answers in text, as a model that needs no tool does.
    /// </summary>
    private static string? FunctionToCall(ChatOptions? options) =>
        options is { ToolMode: RequiredChatToolMode mode, Tools: { Count: > 0 } tools }
            ? mode.RequiredFunctionName ?? tools[0].Name
            : null;

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
