using System.ClientModel.Primitives;
using System.Collections.Concurrent;
using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using Gateway.Resilience;
using Microsoft.Extensions.AI;
using OpenAI;
using OpenAI.Chat;
using MeaiChatMessage = Microsoft.Extensions.AI.ChatMessage;

namespace Gateway.Providers.OpenAI;

/// <summary>
/// An <see cref="IChatClient"/> over the official OpenAI SDK, for any OpenAI-compatible server. It sends through
/// the provider's own <see cref="HttpClient"/> (where resilience lives) with the SDK's retries and timeouts off,
/// and lets nothing out but updates and <see cref="UpstreamException"/>.
/// </summary>
internal sealed class OpenAiChatClient : IChatClient
{
    private readonly ConcurrentDictionary<string, ChatClient> _clients = new(StringComparer.Ordinal);
    private readonly AuthenticationPolicy _authentication;
    private readonly OpenAIClientOptions _options;
    private readonly OpenAiErrorTranslator _errors;
    private readonly HttpClient _httpClient;
    private readonly StreamingChatRequest _streamingRequest;
    private readonly bool _capAsMaxTokens;
    private readonly bool _sendsReasoningBack;
    private readonly string _providerName;
    private readonly bool _imageLinks;

    public OpenAiChatClient(string providerName, ProviderOptions provider, HttpClient httpClient)
    {
        _authentication = string.IsNullOrEmpty(provider.ApiKey)
            ? new NoAuthenticationPolicy()
            : ApiKeyAuthenticationPolicy.CreateBearerAuthorizationPolicy(new System.ClientModel.ApiKeyCredential(provider.ApiKey));
        _options = new OpenAIClientOptions
        {
            Endpoint = ApiRoot(provider.BaseUrl!),
            Transport = new HttpClientPipelineTransport(httpClient),
            RetryPolicy = new ClientRetryPolicy(maxRetries: 0),
            NetworkTimeout = Timeout.InfiniteTimeSpan,
        };
        _errors = new OpenAiErrorTranslator(providerName, provider.ApiKey);
        _httpClient = httpClient;
        _capAsMaxTokens = provider.MaxTokensField == ProviderOptions.MaxTokensName;
        _sendsReasoningBack = provider.SendsReasoningBack;
        _providerName = providerName;
        _imageLinks = provider.ImageLinks;
        _streamingRequest = new StreamingChatRequest(provider.BaseUrl!, provider.ApiKey, _capAsMaxTokens);
    }

    /// <summary>
    /// The API root without the slashes its path may end in: the SDK joins <c>chat/completions</c> to it after one
    /// slash, and a BaseUrl ending in <c>//</c> sent unstreamed calls to <c>/v1//chat/completions</c> while streamed
    /// ones went to <c>/v1/chat/completions</c>.
    /// </summary>
    private static Uri ApiRoot(string baseUrl)
    {
        var builder = new UriBuilder(baseUrl);
        builder.Path = builder.Path.TrimEnd('/');
        return builder.Uri;
    }

    /// <summary>
    /// Streams without the SDK: <see cref="StreamingChatRequest"/> writes the body the SDK would send, and the body is
    /// read here as it arrives. The SDK's request pipeline and its parse (a document, several model objects and copies
    /// per chunk) were most of what a streamed completion cost the gateway. <see cref="StreamingChunkReader"/> checks
    /// each chunk for what the SDK would choke on or miss, and failures are translated as the SDK's would be.
    /// </summary>
    public async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(
        IEnumerable<MeaiChatMessage> messages,
        ChatOptions? options = null,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        if (options?.ModelId is null)
        {
            throw new ArgumentException("A model id is required.", nameof(options));
        }

        RefuseImageLinksUnlessTaken(messages);
        using var response = await SendStreamingAsync(messages, options, cancellationToken).ConfigureAwait(false);
        var chunks = new StreamingChunkReader();
        Stream body = new ZeroByteReadStream(new CarriageReturnLineEnds(new EventSizeLimit(await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false))));
        if (!string.Equals(response.Content.Headers.ContentType?.MediaType, "text/event-stream", StringComparison.OrdinalIgnoreCase))
        {
            var (whole, events) = await ReadUnstreamedAsync(body, chunks, cancellationToken).ConfigureAwait(false);
            if (whole is not null)
            {
                yield return whole;
                yield break;
            }

            body = events;
        }

        await using var enumerator = SseParser.Create(body, chunks.Parse).EnumerateAsync(cancellationToken).GetAsyncEnumerator(cancellationToken);
        while (await MoveNextAsync(enumerator, cancellationToken).ConfigureAwait(false))
        {
            if (enumerator.Current.Data is not { } update)
            {
                // [DONE]: the end of a stream that only ever said finish_reason "" is its finish.
                if (chunks.FinishAtDone() is { } finished)
                {
                    yield return finished;
                }

                yield break;
            }

            yield return update;
        }

        if (!chunks.SawFinishReason)
        {
            // The connection closed cleanly, but the completion never finished: that upstream died.
            throw new UpstreamException(UpstreamFailure.Connection, "The upstream stream ended before the completion finished.");
        }
    }

    /// <summary>
    /// A body not labelled as events may be one JSON document (<see cref="UnstreamedAnswer"/>): then the whole answer,
    /// as one update, or the error it reports; else the stream to read events from.
    /// </summary>
    private async ValueTask<(ChatResponseUpdate? Whole, Stream Events)> ReadUnstreamedAsync(
        Stream body, StreamingChunkReader chunks, CancellationToken cancellationToken)
    {
        try
        {
            var (document, events) = await UnstreamedAnswer.ReadAsync(body, cancellationToken).ConfigureAwait(false);
            if (document is null)
            {
                return (null, events);
            }

            return chunks.Parse("", document) is { } whole && chunks.TryFinishWhole(whole)
                ? (whole, events)
                : throw new UpstreamException(UpstreamFailure.Protocol, "The upstream answered a streamed request with a document that is not a finished chat completion.");
        }
        catch (Exception exception) when (_errors.Translate(exception, cancellationToken) is { } upstream && upstream != exception)
        {
            throw upstream;
        }
    }

    /// <summary>Sends the streamed request; an error status becomes <see cref="UpstreamException"/>, as the SDK's exception would.</summary>
    private async Task<HttpResponseMessage> SendStreamingAsync(
        IEnumerable<MeaiChatMessage> messages, ChatOptions options, CancellationToken cancellationToken)
    {
        HttpResponseMessage? response = null;
        try
        {
            using var request = _streamingRequest.Create(Sendable(messages), options);
            response = await _httpClient.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
            if (response.IsSuccessStatusCode)
            {
                return response;
            }

            throw _errors.FromStatus(
                (int)response.StatusCode, await ErrorBodyOrNoneAsync(response, cancellationToken).ConfigureAwait(false), RetryAfterHeader.Of(response.Headers, DateTimeOffset.UtcNow));
        }
        catch (Exception exception) when (Dispose(response) && _errors.Translate(exception, cancellationToken) is { } upstream && upstream != exception)
        {
            throw upstream;
        }
    }

    /// <summary>
    /// An error status's body, for its message; none when it does not come whole, in time (<see cref="ErrorBody"/>: 2 s,
    /// 16 MiB) or before the attempt's clocks run out. Its status tells the failure either way: a <c>400</c> whose body
    /// stalled past the first-token clock, or whose connection dropped mid-body, was retried as a timeout or a broken
    /// connection, and a 4xx is never retried. (A caller who left, or a total timeout, is told apart where those tokens
    /// are known: <see cref="Resilience.StreamAttempt"/>.)
    /// </summary>
    private static async ValueTask<byte[]> ErrorBodyOrNoneAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        try
        {
            return await ErrorBody.TryBufferAsync(response, ErrorBody.MaxBytes, TimeProvider.System, cancellationToken).ConfigureAwait(false)
                ? await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false)
                : [];
        }
        catch (OperationCanceledException)
        {
            return [];
        }
    }

    /// <summary>Disposes a response that will not be returned; true, so it can sit first in an exception filter.</summary>
    private static bool Dispose(HttpResponseMessage? response)
    {
        response?.Dispose();
        return true;
    }

    public async Task<ChatResponse> GetResponseAsync(
        IEnumerable<MeaiChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        RefuseImageLinksUnlessTaken(messages);
        try
        {
            var completion = await ChatClientFor(options).CompleteChatAsync(
                OpenAiRequestMapper.ToSdkMessages(Sendable(messages)), OpenAiRequestMapper.ToSdkOptions(options, _capAsMaxTokens), cancellationToken).ConfigureAwait(false);
            var response = ToResponse(completion.Value);
            if (Thinking(completion.GetRawResponse().Content) is { Length: > 0 } thinking)
            {
                response.Messages[0].Contents.Insert(0, new TextReasoningContent(thinking));
            }

            return response;
        }
        catch (Exception exception) when (_errors.Translate(exception, cancellationToken) is { } upstream && upstream != exception)
        {
            throw upstream;
        }
    }

    /// <summary>
    /// A linked image, for a server this gateway must not have fetch links (<see cref="ProviderOptions.ImageLinks"/>):
    /// refused as a provider refuses what it does not take, a 400 naming the part, before anything is sent.
    /// </summary>
    private void RefuseImageLinksUnlessTaken(IEnumerable<MeaiChatMessage> messages)
    {
        if (!_imageLinks && ImagePart.FirstPlace(messages as IReadOnlyList<MeaiChatMessage> ?? [.. messages], static image => image.IsLink) is { } place)
        {
            throw new UpstreamException(
                UpstreamFailure.Status,
                $"Provider '{_providerName}' takes images as data URLs only, not links for its server to fetch (its ImageLinks is false): send the image at '{place}' itself, as a data:image/...;base64 URL.",
                System.Net.HttpStatusCode.BadRequest)
            { UpstreamCode = "unsupported_parameter", UpstreamParam = place };
        }
    }

    /// <summary>
    /// The messages as this server takes them: without the thinking of assistant turns unless it takes that back
    /// (<see cref="ProviderOptions.SendsReasoningBack"/>). The same messages, not a copy, when none carries any.
    /// </summary>
    private IEnumerable<MeaiChatMessage> Sendable(IEnumerable<MeaiChatMessage> messages)
    {
        if (_sendsReasoningBack || !CarriesThinking(messages))
        {
            return messages;
        }

        var sendable = new List<MeaiChatMessage>();
        foreach (var message in messages)
        {
            sendable.Add(UpdateContents.Reasoning(message.Contents).Length == 0
                ? message
                : new MeaiChatMessage(message.Role, [.. message.Contents.Where(content => content is not TextReasoningContent)])
                {
                    AuthorName = message.AuthorName,
                    AdditionalProperties = message.AdditionalProperties,
                });
        }

        return sendable;
    }

    // Asked of every request to every such provider: no enumerator per message (nested Any allocated one each).
    private static bool CarriesThinking(IEnumerable<MeaiChatMessage> messages)
    {
        foreach (var message in messages)
        {
            if (UpdateContents.Reasoning(message.Contents).Length > 0)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// A reasoning model's thinking in a whole answer (<c>message.reasoning_content</c>, or <c>reasoning</c>), which the
    /// SDK does not read: DeepSeek's thinking mode requires it back on a turn that called tools. Read as a streamed
    /// answer's message is (<see cref="StreamingChunkReader"/>), only when the body names it; "" when there is none.
    /// </summary>
    private static string Thinking(BinaryData body)
    {
        // The members' names with their closing quotes: "reasoning_tokens", in most answers' usage, is not thinking.
        var bytes = body.ToMemory().Span;
        if (bytes.IndexOf("\"reasoning_content\""u8) < 0 && bytes.IndexOf("\"reasoning\""u8) < 0)
        {
            return "";
        }

        try
        {
            return new StreamingChunkReader().Parse("", bytes) is { } whole ? UpdateContents.Reasoning(whole) : "";
        }
        catch (Exception)
        {
            // The SDK has read the answer: what could not be said about its thinking is not worth failing it for, and
            // generating it again.
            return "";
        }
    }

    /// <summary>
    /// The SDK parses a completion whose first choice has no <c>message</c> without complaint, and its getters then
    /// throw <see cref="NullReferenceException"/>: that is the upstream's malformed answer, not the gateway's bug.
    /// </summary>
    private static ChatResponse ToResponse(ChatCompletion completion)
    {
        try
        {
            return OpenAiResponseMapper.ToResponse(completion);
        }
        catch (NullReferenceException exception)
        {
            throw new UpstreamException(
                UpstreamFailure.Protocol, "The upstream's completion is not a valid chat completion: its choice has no message.", inner: exception);
        }
    }

    // Called once per streamed chunk and usually completes asynchronously: the pooling builder reuses its state
    // machine box instead of allocating one per chunk.
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<bool> MoveNextAsync<T>(IAsyncEnumerator<T> enumerator, CancellationToken cancellationToken)
    {
        try
        {
            return await enumerator.MoveNextAsync().ConfigureAwait(false);
        }
        catch (Exception exception) when (_errors.Translate(exception, cancellationToken) is { } upstream && upstream != exception)
        {
            throw upstream;
        }
    }

    private ChatClient ChatClientFor(ChatOptions? options)
    {
        var model = options?.ModelId ?? throw new ArgumentException("A model id is required.", nameof(options));
        return _clients.GetOrAdd(model, static (name, self) => new ChatClient(name, self._authentication, self._options), this);
    }

    public object? GetService(Type serviceType, object? serviceKey = null) =>
        serviceKey is null && serviceType.IsInstanceOfType(this) ? this : null;

    public void Dispose()
    {
    }

    /// <summary>For local servers (Ollama, llama.cpp) that take no key: send no Authorization header at all.</summary>
    private sealed class NoAuthenticationPolicy : AuthenticationPolicy
    {
        public override void Process(PipelineMessage message, IReadOnlyList<PipelinePolicy> pipeline, int currentIndex) =>
            ProcessNext(message, pipeline, currentIndex);

        public override ValueTask ProcessAsync(PipelineMessage message, IReadOnlyList<PipelinePolicy> pipeline, int currentIndex) =>
            ProcessNextAsync(message, pipeline, currentIndex);
    }
}
