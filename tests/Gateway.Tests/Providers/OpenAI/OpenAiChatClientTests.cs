using System.Net;
using Gateway.Providers;
using Gateway.Providers.OpenAI;
using Gateway.Tests.Infrastructure;
using Microsoft.Extensions.AI;

namespace Gateway.Tests.Providers.OpenAI;

/// <summary>The adapter against a real OpenAI-compatible HTTP server on loopback.</summary>
public sealed class OpenAiChatClientTests : IAsyncLifetime
{
    private FakeUpstream _upstream = null!;
    private HttpClient _http = null!;
    private OpenAiChatClient _client = null!;

    public async Task InitializeAsync()
    {
        _upstream = await FakeUpstream.StartAsync();
        _http = new HttpClient(new UpstreamNormalizingHandler { InnerHandler = new SocketsHttpHandler() });
        _client = new OpenAiChatClient("upstream", new ProviderOptions { Type = "openai", BaseUrl = _upstream.BaseUrl, ApiKey = FakeUpstream.ApiKey }, _http);
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _upstream.DisposeAsync();
    }

    private static readonly ChatOptions Options = new() { ModelId = "test-model" };

    private static List<ChatMessage> Messages(string text) => [new(ChatRole.User, text)];

    private async Task<List<ChatResponseUpdate>> StreamAsync(string text = "hello big world")
    {
        var updates = new List<ChatResponseUpdate>();
        await foreach (var update in _client.GetStreamingResponseAsync(Messages(text), Options))
        {
            updates.Add(update);
        }

        return updates;
    }

    [Fact]
    public async Task Stream_MapsTextUsageAndFinishReason()
    {
        var updates = await StreamAsync();

        Assert.Equal("hello big world", string.Concat(updates.Select(u => u.Text)));
        Assert.Equal(ChatRole.Assistant, updates[0].Role);
        Assert.Equal("chatcmpl-upstream", updates[0].ResponseId);
        Assert.Equal(ChatFinishReason.Stop, Assert.Single(updates, u => u.FinishReason is not null).FinishReason);
        var usage = Assert.Single(updates.SelectMany(u => u.Contents).OfType<UsageContent>()).Details;
        Assert.Equal(3, usage.InputTokenCount);
        Assert.Equal(3, usage.OutputTokenCount);
        Assert.Equal(6, usage.TotalTokenCount);
    }

    [Fact]
    public async Task Stream_SendsTheDeploymentModelBearerKeyAndStreamFlag()
    {
        await StreamAsync();

        var request = Assert.Single(_upstream.Requests);
        Assert.Equal("test-model", request.Json["model"]!.GetValue<string>());
        Assert.True(request.Json["stream"]!.GetValue<bool>());
        Assert.Equal("Bearer " + FakeUpstream.ApiKey, request.Authorization);
    }

    [Fact]
    public async Task KeylessProvider_SendsNoAuthorizationHeader()
    {
        using var keyless = new OpenAiChatClient("local", new ProviderOptions { Type = "openai", BaseUrl = _upstream.BaseUrl }, _http);

        await foreach (var _ in keyless.GetStreamingResponseAsync(Messages("hi"), Options))
        {
        }

        Assert.Equal("", Assert.Single(_upstream.Requests).Authorization);
    }

    [Theory]
    [InlineData("eos", "stop")]
    [InlineData("end_turn", "stop")]
    [InlineData("", "stop")]
    [InlineData("max_tokens", "length")]
    [InlineData("length", "length")]
    [InlineData("content_filter", "content_filter")]
    public async Task Stream_FinishReasonsTheSdkDoesNotKnow_AreMapped(string upstreamReason, string expected)
    {
        _upstream.Enqueue(new UpstreamScript { FinishReason = upstreamReason });

        var updates = await StreamAsync();

        Assert.Equal("hello big world", string.Concat(updates.Select(u => u.Text)));
        Assert.Equal(expected, updates.Single(u => u.FinishReason is not null).FinishReason!.Value.Value);
        Assert.Single(updates.SelectMany(u => u.Contents).OfType<UsageContent>());
    }

    /// <summary>
    /// A line may end in CR alone. The event parser waited for the byte after a CR (an LF of a CR LF?): from such a
    /// server each event went on only when the next began, and the last before a cut connection never did, so a whole
    /// answer failed as cut off before its finish.
    /// </summary>
    [Fact]
    public async Task Stream_WithLinesEndedByCarriageReturns_EachEventIsReadAsItComes()
    {
        var finished = new TaskCompletionSource();
        _upstream.Enqueue(new UpstreamScript
        {
            Tokens = [],
            Inject = (0, "data: {\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"Hi\"},\"finish_reason\":null}]}\r\r"
                + "data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\r\r"),
            DropAfterTokens = 0,
            DropWhen = Task.WhenAny(finished.Task, Task.Delay(TimeSpan.FromSeconds(5))), // cut once the finish has been read
        });

        var updates = new List<ChatResponseUpdate>();
        await Assert.ThrowsAsync<UpstreamException>(async () =>
        {
            await foreach (var update in _client.GetStreamingResponseAsync(Messages("hi"), Options))
            {
                updates.Add(update);
                if (update.FinishReason is not null)
                {
                    finished.TrySetResult();
                }
            }
        });

        Assert.Equal("Hi", string.Concat(updates.Select(u => u.Text)));
        Assert.Equal(ChatFinishReason.Stop, updates[^1].FinishReason);
    }

    /// <summary>
    /// How Mistral's reasoning models (Magistral) stream: <c>delta.content</c> as a list of parts, thinking parts while
    /// the model thinks, then text parts; here an emoji cut between two chunks of each, and an empty list.
    /// </summary>
    private const string MagistralStream = """
        data: {"id":"c3","object":"chat.completion.chunk","created":1,"model":"magistral-medium-2509","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}

        data: {"id":"c3","object":"chat.completion.chunk","created":1,"model":"magistral-medium-2509","choices":[{"index":0,"delta":{"content":[{"type":"thinking","thinking":[{"type":"text","text":"The user greets \ud83d"}]}]},"finish_reason":null}]}

        data: {"id":"c3","object":"chat.completion.chunk","created":1,"model":"magistral-medium-2509","choices":[{"index":0,"delta":{"content":[{"type":"thinking","thinking":[{"type":"text","text":"\ude00."}]}]},"finish_reason":null}]}

        data: {"id":"c3","object":"chat.completion.chunk","created":1,"model":"magistral-medium-2509","choices":[{"index":0,"delta":{"content":[]},"finish_reason":null}]}

        data: {"id":"c3","object":"chat.completion.chunk","created":1,"model":"magistral-medium-2509","choices":[{"index":0,"delta":{"content":[{"type":"text","text":"Hello \ud83d"}]},"finish_reason":null}]}

        data: {"id":"c3","object":"chat.completion.chunk","created":1,"model":"magistral-medium-2509","choices":[{"index":0,"delta":{"content":[{"type":"text","text":"\ude00!"}]},"finish_reason":null}]}


        """;

    [Fact]
    public async Task Stream_ContentAsParts_AsMagistralWritesIt_IsItsThinkingThenItsText_AtTheFirstAttempt()
    {
        // Read as a string, the first list failed the stream before its first token: retried, generated and paid for again.
        _upstream.Enqueue(new UpstreamScript { Tokens = [], Inject = (0, MagistralStream.ReplaceLineEndings("\n")) });

        var updates = await StreamAsync();

        Assert.Equal("The user greets \U0001F600.", string.Concat(updates.Select(UpdateContents.Reasoning)));
        Assert.Equal("Hello \U0001F600!", string.Concat(updates.Select(u => u.Text)));
        Assert.Equal(ChatFinishReason.Stop, Assert.Single(updates, u => u.FinishReason is not null).FinishReason);
        Assert.Single(_upstream.Requests);
    }

    [Fact]
    public async Task Stream_AnsweredWithAWholeCompletionWhoseContentIsParts_IsItsThinkingAndText()
    {
        _upstream.Enqueue(new UpstreamScript
        {
            IgnoreStream = true,
            CompletionBody = """{"id":"c1","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":[{"type":"thinking","thinking":[{"type":"text","text":"The user greets."}]},{"type":"text","text":"Hello!"}]},"finish_reason":"stop"}]}""",
        });

        var whole = Assert.Single(await StreamAsync());

        Assert.Equal(("The user greets.", "Hello!"), (UpdateContents.Reasoning(whole), whole.Text));
        Assert.Single(_upstream.Requests);
    }

    [Fact]
    public async Task Stream_WithoutIdCreatedAndWithAnEmptyChoicesChunk_StillStreams()
    {
        _upstream.Enqueue(new UpstreamScript { OmitCreated = true, OmitId = true, EmptyChoicesChunkFirst = true });

        var updates = await StreamAsync();

        Assert.Equal("hello big world", string.Concat(updates.Select(u => u.Text)));
        Assert.All(updates, u => Assert.Null(u.CreatedAt));
    }

    [Fact]
    public async Task Stream_FinishReasonError_IsAnUpstreamStreamError()
    {
        _upstream.Enqueue(new UpstreamScript { FinishReason = "error" });

        var exception = await Assert.ThrowsAsync<UpstreamException>(() => StreamAsync());

        Assert.Equal(UpstreamFailure.StreamError, exception.Failure);
    }

    [Fact]
    public async Task Stream_ErrorEventInsteadOfAChunk_IsAnUpstreamStreamErrorWithItsMessage()
    {
        _upstream.Enqueue(new UpstreamScript { Inject = (1, "data: {\"error\":{\"message\":\"model overloaded\",\"code\":\"overloaded\"}}\n\n") });

        var texts = new List<string>();
        var exception = await Assert.ThrowsAsync<UpstreamException>(async () =>
        {
            await foreach (var update in _client.GetStreamingResponseAsync(Messages("a b c"), Options))
            {
                texts.Add(update.Text);
            }
        });

        Assert.Equal(UpstreamFailure.StreamError, exception.Failure);
        Assert.Contains("model overloaded", exception.Message, StringComparison.Ordinal);
        Assert.Equal("overloaded", exception.UpstreamCode);
        Assert.Equal("a", string.Concat(texts));
    }

    [Theory]
    [InlineData("data: {\"choices\": [ {\"delta\": \n\n")]
    [InlineData("data: {not json}\n\n")]
    public async Task Stream_MalformedChunk_IsAProtocolError(string malformed)
    {
        _upstream.Enqueue(new UpstreamScript { Inject = (1, malformed) });

        var exception = await Assert.ThrowsAsync<UpstreamException>(() => StreamAsync());

        Assert.Equal(UpstreamFailure.Protocol, exception.Failure);
    }

    [Fact]
    public async Task Stream_CancelledByTheEnumeratorsOwnToken_StopsWaitingAndClosesTheUpstreamRequest()
    {
        _upstream.Enqueue(new UpstreamScript { Stall = (1, TimeSpan.FromSeconds(30)) });
        using var reader = new CancellationTokenSource();
        await using var enumerator = _client.GetStreamingResponseAsync(Messages("one two three"), Options).GetAsyncEnumerator(reader.Token);

        Assert.True(await enumerator.MoveNextAsync());
        Assert.Equal("one", enumerator.Current.Text);
        var next = enumerator.MoveNextAsync().AsTask(); // waits: the upstream stalls after its first token
        reader.Cancel();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => next.WaitAsync(TimeSpan.FromSeconds(10)));
        var (_, aborted) = await Assert.Single(_upstream.Requests).Closed.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.True(aborted);
    }

    [Fact]
    public async Task Stream_ConnectionDroppedMidway_IsAConnectionError()
    {
        _upstream.Enqueue(new UpstreamScript { DropAfterTokens = 2 });

        var exception = await Assert.ThrowsAsync<UpstreamException>(() => StreamAsync());

        Assert.Equal(UpstreamFailure.Connection, exception.Failure);
    }

    /// <summary>An upstream that closes its connection mid-body (no RST): the runtime names its error kind in the message.</summary>
    [Fact]
    public void AStreamEndedEarly_IsDescribedInWords_NotByTheRuntimesEnumName()
    {
        var translator = new OpenAiErrorTranslator("upstream", apiKey: null);

        var exception = translator.Translate(
            new HttpIOException(HttpRequestError.ResponseEnded, "The response ended prematurely."), CancellationToken.None)!;

        Assert.Equal(UpstreamFailure.Connection, exception.Failure);
        // Until 2026-12-06 (later): "... failed: The response ended prematurely. (ResponseEnded)".
        Assert.Equal("The connection to provider 'upstream' failed: it closed the connection before its answer was complete.", exception.Message);
        Assert.Equal("The response ended prematurely. (ResponseEnded)", exception.TransportDetail);
    }

    [Fact]
    public async Task Stream_EndingCleanlyWithoutFinishReasonOrDone_IsAConnectionError()
    {
        _upstream.Enqueue(new UpstreamScript { FinishReason = null, SendDone = false });

        var exception = await Assert.ThrowsAsync<UpstreamException>(() => StreamAsync());

        Assert.Equal(UpstreamFailure.Connection, exception.Failure);
    }

    [Theory]
    [InlineData(400)]
    [InlineData(404)]
    [InlineData(500)]
    public async Task Stream_ErrorStatus_CarriesStatusAndTheUpstreamMessage(int status)
    {
        _upstream.Enqueue(new UpstreamScript
        {
            Status = status,
            ErrorBody = """{"error":{"message":"no such thing","type":"invalid_request_error","code":"model_not_found"}}""",
        });

        var exception = await Assert.ThrowsAsync<UpstreamException>(() => StreamAsync());

        Assert.Equal(UpstreamFailure.Status, exception.Failure);
        Assert.Equal((HttpStatusCode)status, exception.Status);
        Assert.Equal("no such thing", exception.Message);
        Assert.Equal("model_not_found", exception.UpstreamCode);
    }

    [Fact]
    public async Task Stream_RetryAfterSeconds_IsRead()
    {
        _upstream.Enqueue(new UpstreamScript { Status = 429, RetryAfter = "7" });

        var exception = await Assert.ThrowsAsync<UpstreamException>(() => StreamAsync());

        Assert.Equal(TimeSpan.FromSeconds(7), exception.RetryAfter);
    }

    [Fact]
    public async Task Stream_AnsweredWithTheWholeCompletion_ByAServerThatIgnoresStreamTrue_IsThatAnswer()
    {
        _upstream.Enqueue(new UpstreamScript { IgnoreStream = true });

        var updates = await StreamAsync();

        var whole = Assert.Single(updates);
        Assert.Equal("hello big world", whole.Text);
        Assert.Equal(ChatFinishReason.Stop, whole.FinishReason);
        Assert.Equal(3, Assert.Single(whole.Contents.OfType<UsageContent>()).Details.OutputTokenCount);
    }

    [Fact]
    public async Task Stream_AnsweredWithAWholeCompletionAfterAByteOrderMark_IsThatAnswer()
    {
        _upstream.Enqueue(new UpstreamScript
        {
            IgnoreStream = true,
            CompletionBody = "\uFEFF\n" + """{"id":"c1","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"whole"},"finish_reason":"length"}]}""",
        });

        var updates = await StreamAsync();

        Assert.Equal("whole", Assert.Single(updates).Text);
        Assert.Equal(ChatFinishReason.Length, updates[0].FinishReason);
    }

    [Theory]
    [InlineData("""{"error":{"message":"The model is overloaded","type":"server_error","code":"overloaded"}}""", "The upstream reported an error: The model is overloaded")]
    [InlineData("""{"object":"error","message":"The model is overloaded","type":"ServiceUnavailableError","code":503}""", "The upstream reported an error: The model is overloaded")]
    [InlineData("""{"id":"c1","object":"chat.completion","choices":[]}""",
        "The upstream answered a streamed request with a document that is not a finished chat completion.")]
    [InlineData("""{"id":"c1","object":"chat.completion","choices":[],"usage":{"prompt_tokens":3,"completion_tokens":0,"total_tokens":3}}""",
        "The upstream answered a streamed request with a document that is not a finished chat completion.")]
    public async Task Stream_AnsweredWithOneJsonDocumentThatIsNoAnswer_SaysWhatItWas(string body, string message)
    {
        _upstream.Enqueue(new UpstreamScript { IgnoreStream = true, CompletionBody = body });

        var exception = await Assert.ThrowsAsync<UpstreamException>(() => StreamAsync());

        Assert.Equal(message, exception.Message);
    }

    [Fact]
    public async Task Stream_AnsweredWithAWholeCompletionWhoseFinishReasonIsNull_IsThatAnswer_AsANonStreamedOneIs()
    {
        _upstream.Enqueue(new UpstreamScript
        {
            IgnoreStream = true,
            CompletionBody = """{"id":"c1","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"whole"},"finish_reason":null}]}""",
        });

        var updates = await StreamAsync();

        Assert.Equal("whole", Assert.Single(updates).Text);
        Assert.Equal(ChatFinishReason.Stop, updates[0].FinishReason);
        Assert.Single(_upstream.Requests);
    }

    [Theory]
    [InlineData("""cut \ud83d""", "cut \uFFFD")]
    [InlineData("""\ude00 lone, \ud83d\ude00 whole, \uD83D\uDE00 too""", "\uFFFD lone, \U0001F600 whole, \U0001F600 too")]
    [InlineData("""a regex: /[\\uD800-\\uDBFF][\\uDC00-\\uDFFF]/""", "a regex: /[\\uD800-\\uDBFF][\\uDC00-\\uDFFF]/")] // escaped backslashes: text, not halves
    [InlineData("""\\\ud83d""", "\\\uFFFD")] // a backslash, then a lone half
    public async Task NonStreamed_AnAnswerHoldingHalfACharacter_IsTheAnswerWithAReplacementCharacter_AtTheFirstAttempt(string escaped, string expected)
    {
        // A JavaScript server that cuts its answer by length can end it on a first half: the SDK's parser refused the
        // whole answer, and it was asked for (and paid for) three times.
        _upstream.Enqueue(new UpstreamScript
        {
            CompletionBody = $$"""{"id":"c1","object":"chat.completion","created":1,"model":"x","choices":[{"index":0,"message":{"role":"assistant","content":"{{escaped}}"},"finish_reason":"length"}]}""",
        });

        var response = await _client.GetResponseAsync(Messages("hi"), Options);

        Assert.Equal(expected, response.Text);
        Assert.Single(_upstream.Requests);
    }

    [Theory]
    [InlineData("""[{"type":"thinking","thinking":[{"type":"text","text":"The user greets."}]},{"type":"text","text":"Hello!"}]""", "The user greets.", "Hello!")]
    [InlineData("""[{"type":"thinking","thinking":[{"type":"text","text":"hm \ud83e"},{"type":"text","text":"\udd14"}]},{"type":"text","text":"a \ud83d"},{"type":"text","text":"\ude00"}]""", "hm \U0001F914", "a \U0001F600")]
    [InlineData("""[{"type":"thinking","thinking":[{"type":"text","text":"Only thought."}]}]""", "Only thought.", "")]
    public async Task NonStreamed_ContentAsParts_AsMagistralAnswers_IsItsTextWithItsThinking_AtTheFirstAttempt(string parts, string thinking, string text)
    {
        // The SDK refused a thinking part: the answer was asked for (and paid for) three times, then a 502.
        _upstream.Enqueue(new UpstreamScript
        {
            CompletionBody = $$$"""{"id":"c1","object":"chat.completion","created":1,"model":"magistral-medium-2509","choices":[{"index":0,"message":{"role":"assistant","content":{{{parts}}}},"finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":2,"total_tokens":5}}""",
        });

        var response = await _client.GetResponseAsync(Messages("hi"), Options);

        Assert.Equal((thinking, text), (UpdateContents.Reasoning(response.Messages[0].Contents), response.Text));
        Assert.Equal(ChatFinishReason.Stop, response.FinishReason);
        Assert.Single(_upstream.Requests);
    }

    [Fact]
    public async Task NonStreamed_ContentAsParts_BesideAReasoningContentOfItsOwn_KeepsThatOneAsItsThinking()
    {
        // A second reasoning_content beside the message's own would be a duplicate member name.
        _upstream.Enqueue(new UpstreamScript
        {
            CompletionBody = """{"id":"c1","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,"message":{"role":"assistant","reasoning_content":"own","content":[{"type":"thinking","thinking":[{"type":"text","text":"parts"}]},{"type":"text","text":"Hello!"}]},"finish_reason":"stop"}]}""",
        });

        var response = await _client.GetResponseAsync(Messages("hi"), Options);

        Assert.Equal(("own", "Hello!"), (UpdateContents.Reasoning(response.Messages[0].Contents), response.Text));
        Assert.Single(_upstream.Requests);
    }

    /// <summary>
    /// The SDK read these whole answers before their lists were rewritten for it; their streamed chunks failed (a list
    /// read as a string), so the same upstream's answer was text unstreamed and an error event streamed.
    /// </summary>
    [Theory]
    [InlineData("""[{"type":"text","text":"Hi "},{"type":"text","text":"there"}]""", "Hi there")]
    [InlineData("""[{"type":"text","text":"cut \ud83d"}]""", "cut \uFFFD")]
    [InlineData("""[]""", "")]
    public async Task TextPartsAlone_OrNone_AreTheSameText_StreamedAndNot(string parts, string text)
    {
        _upstream.Enqueue(
            new UpstreamScript { Tokens = [], Inject = (0, $$$"""data: {"choices":[{"index":0,"delta":{"role":"assistant","content":{{{parts}}}},"finish_reason":null}]}""" + "\n\n") },
            new UpstreamScript
            {
                CompletionBody = $$$"""{"id":"c1","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":{{{parts}}}},"finish_reason":"stop"}]}""",
            });

        var streamed = string.Concat((await StreamAsync()).Select(u => u.Text));
        var whole = (await _client.GetResponseAsync(Messages("hi"), Options)).Text;

        Assert.Equal((text, text), (streamed, whole));
        Assert.Equal(2, _upstream.Requests.Count);
    }

    [Fact]
    public async Task NonStreamed_AHalfInsideAFinishReasonMappedWhole_IsNoFailure()
    {
        _upstream.Enqueue(new UpstreamScript
        {
            CompletionBody = """{"id":"c1","object":"chat.completion","created":1,"model":"x","choices":[{"index":0,"message":{"role":"assistant","content":"ok"},"finish_reason":"eos\ud83d"}]}""",
        });

        var response = await _client.GetResponseAsync(Messages("hi"), Options);

        Assert.Equal(("ok", ChatFinishReason.Stop), (response.Text, response.FinishReason));
    }

    [Theory]
    [InlineData("len\\u0067th", "length")]
    [InlineData("content_fi\\u006Cter", "content_filter")]
    [InlineData("max\\u005ftokens", "length")]
    [InlineData("\\u0065os", "stop")]
    [InlineData("tool\\u005fcalls", "tool_calls")]
    public async Task NonStreamed_AFinishReasonWrittenWithEscapes_IsReadAsItsText(string escaped, string expected)
    {
        // Valid JSON for "length": a streamed answer read it so, but the rewrite for the SDK compared the escaped bytes,
        // found no reason it knew, and made it a stop: an answer cut at its cap passed for a whole one.
        _upstream.Enqueue(new UpstreamScript
        {
            CompletionBody = $$"""{"id":"c1","object":"chat.completion","created":1,"model":"x","choices":[{"index":0,"message":{"role":"assistant","content":"ok"},"finish_reason":"{{escaped}}"}]}""",
        });

        var response = await _client.GetResponseAsync(Messages("hi"), Options);

        Assert.Equal(("ok", expected), (response.Text, response.FinishReason!.Value.Value));
    }

    [Fact]
    public async Task NonStreamed_A200WithTheFlatErrorObject_CarriesItsMessage()
    {
        _upstream.Enqueue(new UpstreamScript
        {
            CompletionBody = """{"object":"error","message":"The model is overloaded","type":"ServiceUnavailableError","param":null,"code":503}""",
        });

        var exception = await Assert.ThrowsAsync<UpstreamException>(() => _client.GetResponseAsync(Messages("hi"), Options));

        Assert.Equal("The upstream reported an error: The model is overloaded", exception.Message);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task AnErrorBodyAfterAByteOrderMark_CarriesItsMessage(bool stream)
    {
        _upstream.Enqueue(new UpstreamScript
        {
            Status = 400,
            ErrorBody = "\uFEFF" + """{"error":{"message":"messages is too long","type":"invalid_request_error","param":"messages","code":"context_length_exceeded"}}""",
        });

        var exception = await Assert.ThrowsAsync<UpstreamException>(() => stream ? StreamAsync() : _client.GetResponseAsync(Messages("hi"), Options));

        Assert.Equal(HttpStatusCode.BadRequest, exception.Status);
        Assert.Equal(("messages is too long", "context_length_exceeded", "messages"), (exception.Message, exception.UpstreamCode, exception.UpstreamParam));
    }

    [Fact]
    public async Task Stream_RetryAfterMilliseconds_IsRead_BeforeRetryAfter()
    {
        _upstream.Enqueue(new UpstreamScript
        {
            Status = 429,
            RetryAfter = "7",
            Headers = new Dictionary<string, string> { ["retry-after-ms"] = "2500" },
        });

        var exception = await Assert.ThrowsAsync<UpstreamException>(() => StreamAsync());

        Assert.Equal(TimeSpan.FromMilliseconds(2500), exception.RetryAfter);
    }

    [Theory]
    [InlineData("""{"object":"error","message":"The model `x` does not exist.","type":"NotFoundError","param":null,"code":404}""", "The model `x` does not exist.")]
    [InlineData("""{"detail":"Not authenticated for this model"}""", "Not authenticated for this model")]
    [InlineData("""{"detail":[{"loc":["body","messages"],"msg":"field required","type":"value_error.missing"}]}""", "field required")]
    public async Task Stream_ErrorStatus_WithTheFlatBodiesOfVllmAndFastApi_CarriesTheirMessage(string body, string message)
    {
        _upstream.Enqueue(new UpstreamScript { Status = 400, ErrorBody = body });

        var exception = await Assert.ThrowsAsync<UpstreamException>(() => StreamAsync());

        Assert.Equal(HttpStatusCode.BadRequest, exception.Status);
        Assert.Equal(message, exception.Message);
    }

    [Fact]
    public async Task Unauthorized_NeverQuotesTheUpstreamMessage()
    {
        _upstream.Enqueue(new UpstreamScript
        {
            Status = 401,
            ErrorBody = "{\"error\":{\"message\":\"Incorrect API key provided: " + FakeUpstream.ApiKey + "\",\"type\":\"invalid_request_error\"}}",
        });

        var exception = await Assert.ThrowsAsync<UpstreamException>(() => StreamAsync());

        Assert.Equal(HttpStatusCode.Unauthorized, exception.Status);
        Assert.DoesNotContain(FakeUpstream.ApiKey, exception.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("sk-", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ConnectionRefused_IsAConnectionError_SaidWithoutTheProvidersAddress()
    {
        using var unreachable = new OpenAiChatClient("down", new ProviderOptions { Type = "openai", BaseUrl = "http://127.0.0.1:1/v1" }, _http);

        var streamed = await Assert.ThrowsAsync<UpstreamException>(async () =>
        {
            await foreach (var _ in unreachable.GetStreamingResponseAsync(Messages("hi"), Options))
            {
            }
        });
        var whole = await Assert.ThrowsAsync<UpstreamException>(() => unreachable.GetResponseAsync(Messages("hi"), Options));

        foreach (var exception in new[] { streamed, whole })
        {
            Assert.Equal(UpstreamFailure.Connection, exception.Failure);
            // What a caller is told: which provider, and what went wrong; where it lives is for the operator's log.
            Assert.Equal("The connection to provider 'down' failed: it could not be connected to.", exception.Message);
            // The gateway's own log keeps the transport's words, address included.
            Assert.Contains("127.0.0.1:1", exception.LogText, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("\uFEFF{\"id\":\"c1\",\"object\":\"chat.completion\",\"created\":1,\"model\":\"m\",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"with a BOM\"},\"finish_reason\":\"stop\"}]}", "with a BOM")]
    [InlineData("""{"id":"c1","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"never said"},"finish_reason":null}]}""", "never said")]
    public async Task NonStreaming_ABodyTheSdkWouldRefuse_ButWhole_IsTheAnswer_AtTheFirstAttempt(string body, string text)
    {
        _upstream.Enqueue(new UpstreamScript { CompletionBody = body });

        var response = await _client.GetResponseAsync(Messages("hi"), Options);

        Assert.Equal(text, response.Text);
        Assert.Equal(ChatFinishReason.Stop, response.FinishReason);
        Assert.Single(_upstream.Requests);
    }

    [Fact]
    public async Task NonStreaming_MapsTextUsageAndAnUnknownFinishReason()
    {
        _upstream.Enqueue(new UpstreamScript { FinishReason = "eos", OmitCreated = true });

        var response = await _client.GetResponseAsync(Messages("one two"), Options);

        Assert.Equal("one two", response.Text);
        Assert.Equal(ChatFinishReason.Stop, response.FinishReason);
        Assert.Equal(2, response.Usage!.OutputTokenCount);
        Assert.False(Assert.Single(_upstream.Requests).Json["stream"]?.GetValue<bool>() ?? false);
    }
}
