using System.Net;
using System.Text.Json.Nodes;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Resilience;

/// <summary>
/// One test per upstream fault, through the real gateway to real upstream servers on loopback: what the client
/// sees (status, exact text, error event, no [DONE] after a failure) and what the upstreams saw (attempts, waits).
/// </summary>
public sealed class StreamFaultTests : IAsyncLifetime
{
    private FaultBed _bed = null!;
    private FakeUpstream _primary = null!;
    private FakeUpstream _secondary = null!;

    public async Task InitializeAsync()
    {
        // Timeouts far above any cold start: these faults are not about time.
        _bed = await FaultBed.StartAsync(firstTokenTimeoutSeconds: 10, idleTimeoutSeconds: 10);
        (_primary, _secondary) = (_bed.Primary, _bed.Secondary);
    }

    public async Task DisposeAsync() => await _bed.DisposeAsync();

    private Task<(HttpResponseMessage Response, List<string> Data)> StreamAsync(string model = "up", string message = "one two three") =>
        _bed.StreamAsync(model, message);

    private static string Attempts(HttpResponseMessage response) => FaultBed.Attempts(response);

    private static void AssertCompleted(List<string> data, string expectedText) => FaultBed.AssertCompleted(data, expectedText);

    private static JsonNode AssertEndedWithError(List<string> data, string expectedTextBefore) =>
        FaultBed.AssertEndedWithError(data, expectedTextBefore);

    [Fact]
    public async Task Status429WithRetryAfter_WaitsAtLeastThatLongThenSucceeds()
    {
        _primary.Enqueue(new UpstreamScript { Status = 429, RetryAfter = "1" });

        var (response, data) = await StreamAsync();

        AssertCompleted(data, "one two three");
        Assert.Equal("2", Attempts(response));
        var requests = _primary.Requests;
        Assert.Equal(2, requests.Count);
        // A few ms of slack: the wall clock stamping requests and the timer behind the delay are different clocks.
        Assert.True(requests[1].ReceivedAt - requests[0].ReceivedAt >= TimeSpan.FromSeconds(0.98), "the retry came before Retry-After");
        Assert.Empty(_secondary.Requests);
    }

    [Fact]
    public async Task RetryAfterAsHttpDate_IsHonoured()
    {
        _primary.Enqueue(new UpstreamScript { Status = 503, RetryAfter = DateTimeOffset.UtcNow.AddSeconds(2).ToString("r") });

        var (response, data) = await StreamAsync();

        AssertCompleted(data, "one two three");
        var requests = _primary.Requests;
        Assert.Equal(2, requests.Count);
        Assert.True(requests[1].ReceivedAt - requests[0].ReceivedAt >= TimeSpan.FromSeconds(0.9), "the retry ignored the Retry-After date");
    }

    [Fact]
    public async Task AServerThatIgnoresStreamTrue_IsStreamedItsWholeAnswer_AtTheFirstAttempt()
    {
        _primary.Enqueue(new UpstreamScript { IgnoreStream = true });

        var (response, data) = await StreamAsync();

        AssertCompleted(data, "one two three");
        Assert.Equal("1", Attempts(response));
        Assert.Single(_primary.Requests);
    }

    /// <summary>
    /// Such a whole answer saying finish_reason "" is finished (and one with no text is no failure), its last held half
    /// written as U+FFFD (until 2026-12-06, late: dropped).
    /// </summary>
    [Theory]
    [InlineData("ok \\ud83d", "\"\"", "ok \ufffd")]
    [InlineData("", "\"\"", "")]
    [InlineData("\\ud83d", "null", "\ufffd")] // its only text a lone half: an answer all the same (was retried twice, then a 502)
    public async Task AServerThatIgnoresStreamTrue_AndSaysAnEmptyFinishReason_IsStreamedItsWholeAnswer(string content, string finishReason, string expected)
    {
        _primary.Enqueue(new UpstreamScript
        {
            IgnoreStream = true,
            CompletionBody = $$"""{"id":"c1","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"{{content}}"},"finish_reason":{{finishReason}}}]}""",
        });

        var (response, data) = await StreamAsync();

        AssertCompleted(data, expected);
        Assert.Single(data, d => d.Contains("\"finish_reason\":\"stop\"", StringComparison.Ordinal));
        Assert.Equal("1", Attempts(response));
    }

    [Fact]
    public async Task RetryAfterMs_AsOpenAiSendsIt_IsHonouredBeforeRetryAfter()
    {
        _primary.Enqueue(new UpstreamScript
        {
            Status = 429,
            RetryAfter = "0",
            Headers = new Dictionary<string, string> { ["retry-after-ms"] = "800" },
        });

        var (response, data) = await StreamAsync();

        AssertCompleted(data, "one two three");
        var requests = _primary.Requests;
        Assert.Equal(2, requests.Count);
        Assert.True(requests[1].ReceivedAt - requests[0].ReceivedAt >= TimeSpan.FromSeconds(0.78), $"the retry ignored retry-after-ms: {requests[1].ReceivedAt - requests[0].ReceivedAt}");
    }

    [Fact]
    public async Task RetryAfterLongerThanMaxDelay_IsCappedByMaxDelay()
    {
        _primary.Enqueue(new UpstreamScript { Status = 429, RetryAfter = "120" });

        var (response, data) = await StreamAsync();

        AssertCompleted(data, "one two three");
        var requests = _primary.Requests;
        Assert.InRange(requests[1].ReceivedAt - requests[0].ReceivedAt, TimeSpan.FromSeconds(0.9), TimeSpan.FromSeconds(10));
    }

    private const string QuotaBody =
        """{"error":{"message":"You exceeded your current quota, please check your plan and billing details.","type":"insufficient_quota","param":null,"code":"insufficient_quota"}}""";

    /// <summary>The one-deployment alias, its provider answering every request 429 with <paramref name="errorBody"/>.</summary>
    private Task<HttpResponseMessage> SoloAnswered429Async(string errorBody, bool stream = true)
    {
        _primary.DefaultScript = new UpstreamScript { Status = 429, RetryAfter = "0", ErrorBody = errorBody };
        return _bed.Gateway.Client.PostAsync("/v1/chat/completions", Json.ChatRequest("solo", "hi", stream: stream));
    }

    [Fact]
    public async Task Status429InsufficientQuota_IsNotRetried_ButFallsBackToTheNextDeployment()
    {
        _primary.DefaultScript = new UpstreamScript { Status = 429, RetryAfter = "1", ErrorBody = QuotaBody };

        var (response, data) = await StreamAsync();

        AssertCompleted(data, "one two three");
        Assert.Single(_primary.Requests); // no retry: waiting does not bring credit back
        Assert.Single(_secondary.Requests);
        Assert.Equal("2", Attempts(response));
    }

    [Fact]
    public async Task Status429InsufficientQuota_FallingBack_IsReportedAsTheQuota_NotAsARateLimit()
    {
        _primary.DefaultScript = new UpstreamScript { Status = 429, ErrorBody = QuotaBody };

        var (_, events) = await RunClient.RunAsync(_bed.Gateway.Client, "/api/runs", """
            {"flow":{"nodes":[{"id":"in","type":"input"},{"id":"say","type":"llm","model":"up","prompt":"in"},
              {"id":"out","type":"output","from":["say"]}]},"input":"one two three"}
            """);

        Assert.Equal("run.completed", events[^1].Name);
        var retrying = Assert.Single(events, e => e.Name == "node.retrying");
        Assert.Equal("quota exhausted (HTTP 429)", retrying.Data["reason"]!.GetValue<string>());
        // Until 2026-12-06 (later) the event did not say where the run went next.
        Assert.Equal("p1", retrying.Data["provider"]!.GetValue<string>());
        Assert.Equal("model-1", retrying.Data["model"]!.GetValue<string>());
        Assert.True(retrying.Data["fallback"]!.GetValue<bool>());
    }

    /// <summary>
    /// The upstream's own request ids, which its support asks for: a node.retrying event names the failed response's, and
    /// the node's record the answering one's. Until 2026-12-06 (night) only the log lines had them.
    /// </summary>
    [Fact]
    public async Task ARetriedThenFallenBackNode_NamesEachUpstreamsRequestId_InItsEventsAndRecord()
    {
        static Dictionary<string, string> Id(string id) => new() { ["x-request-id"] = id };
        _primary.Enqueue(
            new UpstreamScript { Status = 500, Headers = Id("req_failed_1") },
            new UpstreamScript { Status = 500 },
            new UpstreamScript { Status = 500 });
        _secondary.Enqueue(new UpstreamScript { Headers = Id("req_answered_2") });

        var (response, events) = await RunClient.RunAsync(_bed.Gateway.Client, "/api/runs", """
            {"flow":{"nodes":[{"id":"in","type":"input"},{"id":"say","type":"llm","model":"up","prompt":"in"},
              {"id":"out","type":"output","from":["say"]}]},"input":"one two three"}
            """);
        response.Dispose();

        Assert.Equal("run.completed", events[^1].Name);
        // The retry after the first 500 names its id; the next 500 sent none, so neither does the fallback after it.
        Assert.Equal(
            [("req_failed_1", false), (null, false), (null, true)],
            events.Where(e => e.Name == "node.retrying").Select(e => (e.Data["upstreamRequestId"]?.GetValue<string>(), e.Data["fallback"]!.GetValue<bool>())));
        var record = events[^1].Data["nodes"]!["say"]!;
        Assert.Equal(("p1", "req_answered_2"), (record["provider"]!.GetValue<string>(), record["upstreamRequestId"]!.GetValue<string>()));
        using var stored = await _bed.Gateway.Client.GetAsync($"/api/runs/{events[^1].Data["runId"]}");
        Assert.Equal("req_answered_2", (await Json.ReadAsync(stored))["nodes"]!["say"]!["upstreamRequestId"]!.GetValue<string>());
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Status429InsufficientQuota_Alone_Is502QuotaExhausted_WithTheUpstreamsWords_AndNoInvitationToRetry(bool stream)
    {
        using var response = await SoloAnswered429Async(QuotaBody, stream);

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        var error = (await Json.ReadAsync(response))["error"]!;
        Assert.Equal("upstream_quota_exhausted", error["code"]!.GetValue<string>());
        Assert.Equal(
            "Every deployment of model 'solo' has run out of quota: You exceeded your current quota, please check your plan and billing details.",
            error["message"]!.GetValue<string>());
        Assert.Null(response.Headers.RetryAfter);
        Assert.Equal("false", response.Headers.GetValues("x-should-retry").Single());
        Assert.Single(_primary.Requests);
    }

    [Fact]
    public async Task Status429InsufficientQuota_NamedByItsTypeAlone_IsNotRetriedEither()
    {
        // OpenAI sends the name as both code and type; OpenAI-compatible proxies keep one or the other.
        using var response = await SoloAnswered429Async("""{"error":{"message":"Out of credit.","type":"insufficient_quota","code":null}}""");

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Equal("upstream_quota_exhausted", (await Json.ReadAsync(response))["error"]!["code"]!.GetValue<string>());
        Assert.Single(_primary.Requests);
    }

    [Fact]
    public async Task Status429WithABodyTooLongToRead_IsARateLimit_RetriedAndThenSaidSo()
    {
        // Past 64 KiB the body is not read for the quota's name: a rate limit, as before, and no half-read body passed on.
        using var response = await SoloAnswered429Async(
            "{\"error\":{\"message\":\"" + new string('x', 70_000) + "\",\"type\":\"insufficient_quota\",\"code\":\"insufficient_quota\"}}");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        var error = (await Json.ReadAsync(response))["error"]!;
        Assert.Equal("upstream_rate_limited", error["code"]!.GetValue<string>());
        Assert.Equal("Every deployment of model 'solo' is rate limited: Provider 'p0' answered HTTP 429.", error["message"]!.GetValue<string>());
        Assert.Equal(3, _primary.Requests.Count);
    }

    [Fact]
    public async Task Status429RateLimit_WithAnotherCode_IsStillRetried()
    {
        _primary.Enqueue(new UpstreamScript
        {
            Status = 429,
            RetryAfter = "0",
            ErrorBody = """{"error":{"message":"Rate limit reached; quota is fine","type":"requests","param":null,"code":"rate_limit_exceeded"}}""",
        });

        var (response, data) = await StreamAsync();

        AssertCompleted(data, "one two three");
        Assert.Equal(2, _primary.Requests.Count);
        Assert.Empty(_secondary.Requests);
    }

    [Theory]
    [InlineData(500)]
    [InlineData(401)]
    public async Task AFailureAndThenARateLimit_IsNotCalledEveryDeploymentRateLimited_NorInvitedToBeRetried(int first)
    {
        // The caller told "rate limited, retry after 1 s" retried the whole chain: the SDK's two retries made 18 calls.
        _primary.DefaultScript = new UpstreamScript { Status = first };
        _secondary.DefaultScript = new UpstreamScript { Status = 429, RetryAfter = "0" };

        var (response, _) = await StreamAsync();

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        var error = (await Json.ReadAsync(response))["error"]!;
        Assert.Equal("upstream_error", error["code"]!.GetValue<string>());
        Assert.Equal("Model 'up' failed: scripted failure", error["message"]!.GetValue<string>());
        Assert.Null(response.Headers.RetryAfter);
        Assert.Equal("false", response.Headers.GetValues("x-should-retry").Single());
    }

    [Fact]
    public async Task ARateLimitOnEveryDeployment_IsStill503RateLimited_WithTheWaitAskedFor_ToTheMillisecond()
    {
        var wait = new Dictionary<string, string> { ["retry-after-ms"] = "300" };
        _primary.DefaultScript = new UpstreamScript { Status = 429, RetryAfter = "1", Headers = wait };
        _secondary.DefaultScript = new UpstreamScript { Status = 429, RetryAfter = "1", Headers = wait };

        var (response, _) = await StreamAsync();

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal("upstream_rate_limited", (await Json.ReadAsync(response))["error"]!["code"]!.GetValue<string>());
        Assert.False(response.Headers.Contains("x-should-retry"));
        Assert.Equal(TimeSpan.FromSeconds(1), response.Headers.RetryAfter?.Delta);
        Assert.Equal("300", response.Headers.GetValues("retry-after-ms").Single()); // the SDKs read it first: not a whole second
    }

    [Fact]
    public async Task ARateLimitAskingForLongerThanTheSdksWait_IsPassedOn_WithNoInvitationToRetry()
    {
        // The SDKs retry within seconds past a 60 s Retry-After: a day-long one made one call reach the upstream 9 times.
        _primary.DefaultScript = new UpstreamScript { Status = 429, RetryAfter = "120" };

        using var response = await _bed.Gateway.Client.PostAsync("/v1/chat/completions", Json.ChatRequest("solo", "hi", stream: true));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(120), response.Headers.RetryAfter?.Delta);
        Assert.Equal("false", response.Headers.GetValues("x-should-retry").Single());
    }

    [Fact]
    public async Task Status5xxOnEveryAttempt_FallsBackToTheNextDeployment()
    {
        _primary.DefaultScript = new UpstreamScript { Status = 500 };

        var (response, data) = await StreamAsync();

        AssertCompleted(data, "one two three");
        Assert.Equal(3, _primary.Requests.Count); // the first try and MaxRetries = 2 retries
        Assert.Single(_secondary.Requests);
        Assert.Equal("model-1", _secondary.Requests[0].Json["model"]!.GetValue<string>());
        Assert.Equal("4", Attempts(response));
    }

    [Fact]
    public async Task EveryDeploymentFails_Returns502NamingTheAlias()
    {
        _primary.DefaultScript = new UpstreamScript { Status = 502 };
        _secondary.DefaultScript = new UpstreamScript { Status = 500 };

        var (response, _) = await StreamAsync();

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        var body = await response.Content.ReadAsStringAsync();
        var error = JsonNode.Parse(body)!["error"]!;
        Assert.Equal("upstream_error", error["code"]!.GetValue<string>());
        Assert.Contains("'up'", error["message"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.DoesNotContain(FakeUpstream.ApiKey, body, StringComparison.Ordinal);
        Assert.Equal("6", Attempts(response));
        // Retried and fallen back already: an OpenAI SDK must not run the chain again.
        Assert.Equal("false", response.Headers.GetValues("x-should-retry").Single());
    }

    [Fact]
    public async Task Status400_IsNeitherRetriedNorFallenBackAndPassesTheMessageOn()
    {
        _primary.Enqueue(new UpstreamScript
        {
            Status = 400,
            ErrorBody = """{"error":{"message":"messages too long","type":"invalid_request_error","code":"context_length_exceeded"}}""",
        });

        var (response, _) = await StreamAsync();

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("messages too long", (await Json.ReadAsync(response))["error"]!["message"]!.GetValue<string>());
        Assert.Single(_primary.Requests);
        Assert.Empty(_secondary.Requests);
        Assert.Equal("1", Attempts(response));
    }

    [Theory]
    [InlineData(401)]
    [InlineData(407)] // a proxy on the way out wants credentials: the next deployment may not go through it
    public async Task CredentialsRefused_FallsBackWithoutRetrying(int status)
    {
        _primary.Enqueue(new UpstreamScript { Status = status });

        var (response, data) = await StreamAsync();

        AssertCompleted(data, "one two three");
        Assert.Single(_primary.Requests);
        Assert.Single(_secondary.Requests);
    }

    [Fact]
    public async Task Redirect_FallsBackWithoutFollowingOrRetrying()
    {
        _primary.Enqueue(new UpstreamScript
        {
            Status = 301,
            Headers = new Dictionary<string, string> { ["Location"] = "https://elsewhere.invalid/v1/chat/completions" },
        });

        var (response, data) = await StreamAsync();

        AssertCompleted(data, "one two three");
        Assert.Single(_primary.Requests);
        Assert.Single(_secondary.Requests);
        Assert.Equal("2", Attempts(response));
    }

    [Fact]
    public async Task ConnectionRefused_IsRetriedThenFallsBack()
    {
        var (response, data) = await StreamAsync("refused");

        AssertCompleted(data, "one two three");
        Assert.Equal("4", Attempts(response));
        Assert.Single(_secondary.Requests);
    }

    [Fact]
    public async Task ResetBeforeHeaders_IsRetried()
    {
        _primary.Enqueue(new UpstreamScript { ResetBeforeHeaders = true });

        var (response, data) = await StreamAsync();

        AssertCompleted(data, "one two three");
        Assert.Equal(2, _primary.Requests.Count);
        Assert.Equal("2", Attempts(response));
    }

    [Fact]
    public async Task ErrorEventInsteadOfTheFirstToken_IsRetriedWithoutDuplicatingAnything()
    {
        _primary.Enqueue(new UpstreamScript { Inject = (0, "data: {\"error\":{\"message\":\"overloaded\"}}\n\n") });

        var (response, data) = await StreamAsync();

        AssertCompleted(data, "one two three");
        Assert.Equal(2, _primary.Requests.Count);
        Assert.Equal("2", Attempts(response));
        Assert.Single(data, d => d.Contains("\"role\":\"assistant\"", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ErrorEventAfterTheFirstToken_EndsTheStreamWithAnErrorEvent()
    {
        _primary.Enqueue(new UpstreamScript { Inject = (2, "data: {\"error\":{\"message\":\"overloaded\"}}\n\n") });

        var (response, data) = await StreamAsync();

        var error = AssertEndedWithError(data, "one two");
        Assert.Contains("overloaded", error["message"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Single(_primary.Requests);
    }

    [Fact]
    public async Task DropAfterTokens_EndsWithAnErrorEventAndIsNotRetried()
    {
        _primary.Enqueue(new UpstreamScript { DropAfterTokens = 2, TokenDelay = TimeSpan.FromMilliseconds(30) });

        var (response, data) = await StreamAsync();

        AssertEndedWithError(data, "one two");
        Assert.Single(_primary.Requests);
        Assert.Equal("1", Attempts(response));
    }

    /// <summary>
    /// The answer and its finish_reason are in; the connection breaks before the usage chunk and [DONE]. Until
    /// 2026-12-06 the whole answer ended in an error event, and the SDKs threw it away.
    /// </summary>
    [Fact]
    public async Task AResetAfterTheFinishReason_EndsTheAnswerWhole_NotInAnError()
    {
        _primary.Enqueue(new UpstreamScript { AfterFinish = (TimeSpan.FromSeconds(1), Drop: true) });

        var (response, data) = await StreamAsync();

        AssertCompleted(data, "one two three");
        Assert.Contains(data, d => d.Contains("\"finish_reason\":\"stop\"", StringComparison.Ordinal));
        Assert.Equal("1", Attempts(response));
    }

    /// <summary>
    /// Ollama and SGLang send <c>finish_reason: ""</c> on every chunk: no reason, as OpenAI's null. Read as a stop, a
    /// stream cut mid-answer passed for a whole one once a failure after the finish reason ended an answer whole.
    /// </summary>
    [Fact]
    public async Task AnEmptyFinishReasonOnEveryChunk_IsNoFinish_ADropAfterItIsStillAnError()
    {
        _primary.Enqueue(new UpstreamScript { ContentFinishReason = "", DropAfterTokens = 2, TokenDelay = TimeSpan.FromMilliseconds(100) });

        var (_, data) = await StreamAsync();

        AssertEndedWithError(data, "one two");
    }

    [Theory]
    [InlineData("length")]
    [InlineData("stop")]
    public async Task AnEmptyFinishReasonOnEveryChunk_ThenARealOne_IsTheRealOne(string finishReason)
    {
        _primary.Enqueue(new UpstreamScript { ContentFinishReason = "", FinishReason = finishReason });

        var (_, data) = await StreamAsync();

        AssertCompleted(data, "one two three");
        Assert.Single(data, d => d.Contains($"\"finish_reason\":\"{finishReason}\"", StringComparison.Ordinal));
        Assert.DoesNotContain(data, d => d.Contains("\"finish_reason\":\"\"", StringComparison.Ordinal));
    }

    /// <summary>
    /// A stream whose chunks only ever say "" ends at [DONE] as stopped, its calls whole and a first half held at its
    /// end written as U+FFFD.
    /// </summary>
    [Fact]
    public async Task AStreamThatOnlyEverSaysAnEmptyFinishReason_EndsAtDoneAsStopped_WithNothingHeldBackLost()
    {
        _primary.Enqueue(new UpstreamScript { ContentFinishReason = "", FinishReason = "", Tokens = ["one ", "two \ud83d"] });

        var (_, data) = await StreamAsync();

        AssertCompleted(data, "one two \ufffd");
        Assert.Single(data, d => d.Contains("\"finish_reason\":\"stop\"", StringComparison.Ordinal));
    }

    /// <summary>The same in a flow run: until 2026-12-06 the node failed, and the run lost its whole output.</summary>
    [Fact]
    public async Task AResetAfterTheFinishReason_CompletesAFlowsNode_WithItsWholeOutput()
    {
        _primary.Enqueue(new UpstreamScript { AfterFinish = (TimeSpan.FromSeconds(1), Drop: true) });

        using var response = await _bed.Gateway.Client.PostAsync("/api/runs", Json.Body("""
            {"flow":{"nodes":[{"id":"in","type":"input"},{"id":"say","type":"llm","model":"solo","prompt":"in"},
              {"id":"out","type":"output","from":["say"]}]},"input":"one two three"}
            """));

        var record = await Json.ReadAsync(response);
        Assert.Equal("completed", record["status"]!.GetValue<string>());
        Assert.Equal("one two three", record["outputs"]!["say"]!.GetValue<string>());
        Assert.Equal("stop", record["nodes"]!["say"]!["finishReason"]!.GetValue<string>());
        Assert.Single(_primary.Requests);
    }

    [Fact]
    public async Task MalformedFirstChunk_IsRetried()
    {
        _primary.Enqueue(new UpstreamScript { Inject = (0, "data: {\"choices\":[{\"delta\":\n\n") });

        var (response, data) = await StreamAsync();

        AssertCompleted(data, "one two three");
        Assert.Equal(2, _primary.Requests.Count);
    }

    [Fact]
    public async Task MalformedChunkMidStream_EndsWithAnErrorEvent()
    {
        _primary.Enqueue(new UpstreamScript { Inject = (1, "data: {not json}\n\n") });

        var (_, data) = await StreamAsync();

        var error = AssertEndedWithError(data, "one");
        Assert.Equal("upstream_error", error["code"]!.GetValue<string>());
    }

    [Fact]
    public async Task MalformedChunkMidStream_ClosesTheUpstreamConnectionWithinASecond_InsteadOfReadingOn()
    {
        // The upstream would go on for ten seconds: a stream the gateway has given up on must not keep it generating.
        var tokens = Enumerable.Range(0, 200).Select(i => $" t{i}").ToArray();
        _primary.Enqueue(new UpstreamScript { Tokens = tokens, TokenDelay = TimeSpan.FromMilliseconds(50), Inject = (2, "data: {not json}\n\n") });

        var (_, data) = await StreamAsync();
        var endedAt = DateTimeOffset.UtcNow;

        AssertEndedWithError(data, " t0 t1");
        var closed = await Assert.Single(_primary.Requests).Closed.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.True(closed.Aborted, "the upstream response should have been cut off, not finished");
        Assert.True(closed.At - endedAt < TimeSpan.FromSeconds(1), $"the upstream connection closed {(closed.At - endedAt).TotalMilliseconds:0} ms after the stream ended");
    }

    [Fact]
    public async Task NonStreaming_Status500IsRetriedToo()
    {
        _primary.Enqueue(new UpstreamScript { Status = 500 });

        using var response = await _bed.Gateway.Client.PostAsync("/v1/chat/completions", Json.ChatRequest("up", "whole", stream: false));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("whole", (await Json.ReadAsync(response))["choices"]![0]!["message"]!["content"]!.GetValue<string>());
        Assert.Equal(2, _primary.Requests.Count);
        Assert.Equal("2", Attempts(response));
    }

    [Theory]
    [InlineData(500)]
    [InlineData(401)]
    public async Task NonStreaming_AnErrorBodyThatStalls_IsNotWaitedFor_TheNextDeploymentAnswers(int status)
    {
        // Until 2026-12-07 the adapter's read of the body, bounded by the total timeout alone (30 s here), held the call
        // to a 504, the secondary never tried (the chaos fuzzer's seed 5149).
        _primary.DefaultScript = new UpstreamScript { Status = status, ErrorBodyStall = TimeSpan.FromMinutes(1) };
        var clock = System.Diagnostics.Stopwatch.StartNew();

        using var response = await _bed.Gateway.Client.PostAsync("/v1/chat/completions", Json.ChatRequest("up", "whole", stream: false));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("whole", (await Json.ReadAsync(response))["choices"]![0]!["message"]!["content"]!.GetValue<string>());
        Assert.Single(_secondary.Requests);
        Assert.InRange(clock.Elapsed, TimeSpan.Zero, TimeSpan.FromSeconds(20));
    }

    [Theory]
    [InlineData("99999999999999")]
    [InlineData("1e20")]
    [InlineData("Infinity")]
    public async Task RetryAfterBeyondAnyClock_IsCappedLikeAnyLongWait_AndFallsBack(string retryAfter)
    {
        _primary.DefaultScript = new UpstreamScript { Status = 429, RetryAfter = retryAfter };

        var (streamed, data) = await StreamAsync();
        using var whole = await _bed.Gateway.Client.PostAsync("/v1/chat/completions", Json.ChatRequest("up", "whole", stream: false));

        AssertCompleted(data, "one two three");
        Assert.Equal("4", Attempts(streamed));
        Assert.Equal(HttpStatusCode.OK, whole.StatusCode);
        Assert.Equal("whole", (await Json.ReadAsync(whole))["choices"]![0]!["message"]!["content"]!.GetValue<string>());
        Assert.Equal(6, _primary.Requests.Count);
        Assert.Equal(2, _secondary.Requests.Count);
    }

    [Theory]
    [InlineData("text/plain")]
    [InlineData("application/json")]
    [InlineData("")] // no Content-Type at all, as a framework's streaming response without a media type sends
    public async Task StreamNotLabelledAsEventStream_StillArrivesTokenByToken(string contentType)
    {
        // The first token, then three seconds of silence: a gateway that reads the body whole shows nothing until then.
        _primary.Enqueue(new UpstreamScript { ContentType = contentType, Stall = (1, TimeSpan.FromSeconds(3)) });
        var clock = System.Diagnostics.Stopwatch.StartNew();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = Json.ChatRequest("up", "one two three", stream: true) };
        using var response = await _bed.Gateway.Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);

        var data = new List<string>();
        var firstTokenAt = TimeSpan.Zero;
        await foreach (var item in Sse.ReadAsync(response))
        {
            data.Add(item.Data);
            if (firstTokenAt == TimeSpan.Zero && Sse.Text(data) != "")
            {
                firstTokenAt = clock.Elapsed;
            }
        }

        AssertCompleted(data, "one two three");
        Assert.True(firstTokenAt < TimeSpan.FromSeconds(2.5), $"the first token came {firstTokenAt.TotalSeconds:0.0} s in, with the rest");
        Assert.Equal("1", Attempts(response));
    }

    [Fact]
    public async Task AMalformedChunkOfAHugeBadLiteral_IsReportedCut_NotQuotedWhole()
    {
        _primary.DefaultScript = new UpstreamScript { Inject = (0, "data: n" + new string('a', 200_000) + "\n\n") };

        var (response, _) = await StreamAsync("solo");

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        var message = (await Json.ReadAsync(response))["error"]!["message"]!.GetValue<string>();
        Assert.InRange(message.Length, 100, 4_300);
        Assert.Contains("more characters)", message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnEmojiThatAJavaScriptServerCutInTwo_ReachesTheClientWhole()
    {
        const string Half = """data: {"id":"c","object":"chat.completion.chunk","created":1,"model":"x","choices":[{"index":0,"delta":{"content":"HALF"},"finish_reason":null}]}""";
        _primary.DefaultScript = new UpstreamScript
        {
            Tokens = ["a", "b"],
            Inject = (1, Half.Replace("HALF", "\\ud83d", StringComparison.Ordinal) + "\n\n" + Half.Replace("HALF", "\\ude00", StringComparison.Ordinal) + "\n\n"),
        };

        var (response, data) = await StreamAsync("solo");

        AssertCompleted(data, "a\U0001F600b");
    }

    [Fact]
    public async Task AnEventThatNeverEnds_EndsTheStreamWithAnErrorEvent_AtTheLimit()
    {
        // 17 MiB of one line after two tokens; before, the parser kept it all (a 500 MB line cost a gigabyte).
        _primary.DefaultScript = new UpstreamScript { Inject = (2, "data: " + new string('a', 17 * 1024 * 1024)) };

        var (response, data) = await StreamAsync("solo");

        var error = AssertEndedWithError(data, "one two");
        Assert.Equal("Model 'solo' failed: The upstream sent more than 16 MiB without ending an event (no blank line).", error["message"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("1717000000.5", "7.0", "5e0")]
    [InlineData("1717000000123", "7", "5")]
    public async Task NonStreaming_NumbersWrittenOddly_AreReadAsTheStreamReadsThem_NotAMalformedAnswer(string created, string prompt, string completion)
    {
        _primary.DefaultScript = new UpstreamScript
        {
            CompletionBody = $$$$"""
                {"id":"c1","object":"chat.completion","created":{{{{created}}}},"model":"x",
                 "choices":[{"index":0,"message":{"role":"assistant","content":"whole"},"finish_reason":"stop"}],
                 "usage":{"prompt_tokens":{{{{prompt}}}},"completion_tokens":{{{{completion}}}},"total_tokens":12.0,"completion_tokens_details":{"reasoning_tokens":0.0}}}
                """,
        };

        using var response = await _bed.Gateway.Client.PostAsync("/v1/chat/completions", Json.ChatRequest("solo", "whole", stream: false));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var answer = await Json.ReadAsync(response);
        Assert.Equal("whole", answer["choices"]![0]!["message"]!["content"]!.GetValue<string>());
        Assert.Equal((7, 5, 12), (answer["usage"]!["prompt_tokens"]!.GetValue<int>(), answer["usage"]!["completion_tokens"]!.GetValue<int>(), answer["usage"]!["total_tokens"]!.GetValue<int>()));
        Assert.Single(_primary.Requests);
    }

    [Theory]
    [InlineData("""{"id":"c1","object":"chat.completion","created":1,"model":"x","choices":[]}""")]
    [InlineData("""{"id":"c1","object":"chat.completion","created":1,"model":"x","choices":[{"index":0,"message":{"role":"assistant","content":"hi"},"finish_reason":7}]}""")]
    public async Task NonStreaming_AMalformedCompletion_Is502_InTheGatewaysWords_NotTheRuntimes(string body)
    {
        _primary.DefaultScript = new UpstreamScript { CompletionBody = body };

        using var solo = await _bed.Gateway.Client.PostAsync("/v1/chat/completions", Json.ChatRequest("solo", "whole", stream: false));

        Assert.Equal(HttpStatusCode.BadGateway, solo.StatusCode);
        var error = (await Json.ReadAsync(solo))["error"]!;
        Assert.Equal("upstream_error", error["code"]!.GetValue<string>());
        Assert.Equal("Model 'solo' failed: Provider 'p0' sent a response that is not a valid chat completion.", error["message"]!.GetValue<string>());
    }

    [Fact]
    public async Task NonStreaming_CompletionWhoseChoiceHasNoMessage_IsAnUpstreamError_AndFallsBack()
    {
        _primary.DefaultScript = new UpstreamScript
        {
            CompletionBody = """{"id":"c1","object":"chat.completion","created":1,"model":"x","choices":[{"index":0,"finish_reason":"stop"}]}""",
        };

        using var response = await _bed.Gateway.Client.PostAsync("/v1/chat/completions", Json.ChatRequest("up", "whole", stream: false));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("whole", (await Json.ReadAsync(response))["choices"]![0]!["message"]!["content"]!.GetValue<string>());
        Assert.Single(_secondary.Requests);

        using var solo = await _bed.Gateway.Client.PostAsync("/v1/chat/completions", Json.ChatRequest("solo", "whole", stream: false));
        var error = (await Json.ReadAsync(solo))["error"]!;
        Assert.Equal(HttpStatusCode.BadGateway, solo.StatusCode);
        Assert.Equal("upstream_error", error["code"]!.GetValue<string>());
        Assert.Contains("no message", error["message"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    /// <summary>
    /// The first deployment said its tier and fingerprint before it failed (a chunk before its first token, or a 200
    /// that is no completion), and the second answered: the answer carries the second's, the one that served it.
    /// </summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task AFallback_CarriesTheServiceTierAndFingerprintOfTheDeploymentThatAnswered(bool stream)
    {
        _primary.DefaultScript = new UpstreamScript
        {
            Members = new Dictionary<string, string> { ["service_tier"] = "\"priority\"", ["system_fingerprint"] = "\"fp_primary\"" },
            EmptyChoicesChunkFirst = true,
            DropAfterTokens = 0,
            CompletionBody = """{"id":"c1","object":"chat.completion","created":1,"model":"x","choices":[{"index":0,"finish_reason":"stop"}],"service_tier":"priority","system_fingerprint":"fp_primary"}""",
        };
        _secondary.DefaultScript = new UpstreamScript
        {
            Members = new Dictionary<string, string> { ["service_tier"] = "\"default\"", ["system_fingerprint"] = "\"fp_secondary\"" },
        };

        using var response = await _bed.Gateway.Client.PostAsync("/v1/chat/completions", Json.ChatRequest("up", "one two three", stream, includeUsage: stream));

        List<string> answers = stream ? [.. (await Sse.ReadAllDataAsync(response)).SkipLast(1)] : [await response.Content.ReadAsStringAsync()];
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Single(_secondary.Requests);
        Assert.All(answers, answer =>
        {
            var json = JsonNode.Parse(answer)!;
            Assert.Equal(("default", "fp_secondary"), (json["service_tier"]?.GetValue<string>(), json["system_fingerprint"]?.GetValue<string>()));
        });
    }
}
