using System.Net;
using Gateway.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.Tests.Resilience;

/// <summary>The per-provider breaker, on a fake clock: after the threshold the provider gets no request until BreakSeconds pass.</summary>
public sealed class CircuitBreakerTests : IAsyncLifetime
{
    private readonly FakeTimeProvider _clock = new();
    private readonly CapturedLogs _logs = new();
    private FakeUpstream _primary = null!;
    private FakeUpstream _secondary = null!;
    private GatewayHost _gateway = null!;

    public async Task InitializeAsync()
    {
        _primary = await FakeUpstream.StartAsync();
        _secondary = await FakeUpstream.StartAsync();
        var settings = GatewayHost.WithDeployments(GatewayHost.SimulatedSettings(), "up", _primary.BaseUrl, _secondary.BaseUrl);
        GatewayHost.WithAlias(settings, "solo", "p0", "solo-model");
        // The two providers of "up" the other way round: p1 first, then p0.
        settings["Gateway:Models:back:Deployments:0:Provider"] = "p1";
        settings["Gateway:Models:back:Deployments:0:Model"] = "back-1";
        settings["Gateway:Models:back:Deployments:1:Provider"] = "p0";
        settings["Gateway:Models:back:Deployments:1:Model"] = "back-0";
        settings["Gateway:Resilience:MaxRetries"] = "0";
        settings["Gateway:Resilience:CircuitBreaker:MinimumThroughput"] = "2";
        settings["Gateway:Resilience:CircuitBreaker:FailureRatio"] = "0.5";
        settings["Gateway:Resilience:CircuitBreaker:BreakSeconds"] = "15";
        _gateway = await GatewayHost.StartAsync(settings, services =>
        {
            services.AddSingleton<TimeProvider>(_clock);
            services.AddSingleton<Microsoft.Extensions.Logging.ILoggerProvider>(_logs);
        });
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _primary.DisposeAsync();
        await _secondary.DisposeAsync();
    }

    private async Task<HttpResponseMessage> SendAsync(string model) =>
        await _gateway.Client.PostAsync("/v1/chat/completions", Json.ChatRequest(model, "are you there", stream: true));

    [Fact]
    public async Task CircuitState_IsExposedPerProviderOnMetrics()
    {
        _primary.DefaultScript = new UpstreamScript { Status = 500 };
        (await SendAsync("solo")).Dispose();
        (await SendAsync("solo")).Dispose();

        var (_, open) = await Exposition.ScrapeAsync(_gateway);
        Assert.Equal(1, open[Circuit("p0", "open")]);
        Assert.Equal(0, open[Circuit("p0", "closed")]);

        _primary.DefaultScript = new UpstreamScript();
        _clock.Advance(TimeSpan.FromSeconds(15.1));
        using (var afterBreak = await SendAsync("solo"))
        {
            await afterBreak.Content.ReadAsStringAsync();
        }

        var (_, closed) = await Exposition.ScrapeAsync(_gateway);
        Assert.Equal(1, closed[Circuit("p0", "closed")]);
        Assert.Equal(0, closed[Circuit("p0", "open")]);
    }

    /// <summary>Alias <c>up</c> on <paramref name="baseUrls"/>, for a gateway of a test's own: its breaker judges after two calls.</summary>
    private static Dictionary<string, string?> OwnBreaker(int maxRetries, int baseDelayMs, string failureRatio, params string[] baseUrls)
    {
        var settings = GatewayHost.WithDeployments(GatewayHost.SimulatedSettings(), "up", baseUrls);
        settings["Gateway:Resilience:MaxRetries"] = maxRetries.ToString(System.Globalization.CultureInfo.InvariantCulture);
        settings["Gateway:Resilience:BaseDelayMs"] = baseDelayMs.ToString(System.Globalization.CultureInfo.InvariantCulture);
        settings["Gateway:Resilience:MaxDelayMs"] = Math.Max(baseDelayMs, 1000).ToString(System.Globalization.CultureInfo.InvariantCulture);
        settings["Gateway:Resilience:CircuitBreaker:MinimumThroughput"] = "2";
        settings["Gateway:Resilience:CircuitBreaker:FailureRatio"] = failureRatio;
        return settings;
    }

    private static string Circuit(string provider, string state) =>
        $"gateway_circuit_breaker_state{{gateway_circuit_state=\"{state}\",gen_ai_provider_name=\"{provider}\"}}";

    [Fact]
    public async Task AfterTheThreshold_TheProviderGetsNoRequestsUntilBreakSecondsHavePassed()
    {
        _primary.DefaultScript = new UpstreamScript { Status = 500 };
        Assert.Equal(HttpStatusCode.BadGateway, (await SendAsync("solo")).StatusCode);
        Assert.Equal(HttpStatusCode.BadGateway, (await SendAsync("solo")).StatusCode);
        Assert.Equal(2, _primary.Requests.Count);

        _primary.DefaultScript = new UpstreamScript();
        using var whileOpen = await SendAsync("solo");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, whileOpen.StatusCode);
        Assert.Equal("upstream_unavailable", (await Json.ReadAsync(whileOpen))["error"]!["code"]!.GetValue<string>());
        Assert.Equal("0", whileOpen.Headers.GetValues("X-Gateway-Attempts").Single());
        _clock.Advance(TimeSpan.FromSeconds(14.9));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await SendAsync("solo")).StatusCode);
        Assert.Equal(2, _primary.Requests.Count);

        _clock.Advance(TimeSpan.FromSeconds(0.2));
        using var afterBreak = await SendAsync("solo");
        Assert.Equal(HttpStatusCode.OK, afterBreak.StatusCode);
        Assert.Equal("are you there", Sse.Text(await Sse.ReadAllDataAsync(afterBreak)));
        Assert.Equal(3, _primary.Requests.Count);
    }

    [Fact]
    public async Task WhileOpen_The503SaysWhenTheProviderIsTriedAgain()
    {
        _primary.DefaultScript = new UpstreamScript { Status = 500 };
        (await SendAsync("solo")).Dispose();
        (await SendAsync("solo")).Dispose();
        _clock.Advance(TimeSpan.FromSeconds(10.5));

        using var whileOpen = await SendAsync("solo");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, whileOpen.StatusCode);
        // 4.5 s of the 15 s break are left: whole seconds rounded up, and the milliseconds the OpenAI SDKs read first.
        Assert.Equal("5", whileOpen.Headers.GetValues("Retry-After").Single());
        Assert.Equal("4500", whileOpen.Headers.GetValues("retry-after-ms").Single());
        Assert.False(whileOpen.Headers.Contains("x-should-retry"));
    }

    [Theory]
    [InlineData("up", "upstream_rate_limited")] // p0's circuit open, then p1 rate limited
    [InlineData("back", "upstream_unavailable")] // p1 rate limited, then p0's circuit open
    public async Task AnOpenCircuitAndARateLimit_AreBothAWait_The503SaysTheShorterOne(string model, string code)
    {
        // Told 502 "failed" with x-should-retry: false, a caller gave up on a call that two seconds would have answered.
        _primary.DefaultScript = new UpstreamScript { Status = 500 };
        (await SendAsync("solo")).Dispose();
        (await SendAsync("solo")).Dispose();
        _secondary.DefaultScript = new UpstreamScript { Status = 429, RetryAfter = "2" };

        using var response = await SendAsync(model);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        var error = (await Json.ReadAsync(response))["error"]!;
        Assert.Equal(code, error["code"]!.GetValue<string>());
        Assert.StartsWith($"Every deployment of model '{model}' is rate limited or unavailable: ", error["message"]!.GetValue<string>());
        // The rate limit's 2 s, not the 15 s the break has left.
        Assert.Equal("2", response.Headers.GetValues("Retry-After").Single());
        Assert.Equal("2000", response.Headers.GetValues("retry-after-ms").Single());
        Assert.False(response.Headers.Contains("x-should-retry"));
        Assert.Single(_secondary.Requests);
    }

    [Fact]
    public async Task AnOpenCircuitAndAFailure_AreNoWait_The502IsNotInvitedToBeRetried()
    {
        _primary.DefaultScript = new UpstreamScript { Status = 500 };
        (await SendAsync("solo")).Dispose();
        (await SendAsync("solo")).Dispose();
        _secondary.DefaultScript = new UpstreamScript { Status = 500 };

        using var response = await SendAsync("up");

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Equal("upstream_error", (await Json.ReadAsync(response))["error"]!["code"]!.GetValue<string>());
        Assert.False(response.Headers.Contains("Retry-After"));
        Assert.Equal("false", response.Headers.GetValues("x-should-retry").Single());
    }

    [Fact]
    public async Task WhileIsolatedForStreamsThatFailPastTheirHeaders_The503SaysWhenTheProviderIsTriedAgain()
    {
        _primary.DefaultScript = new UpstreamScript { Inject = (0, "data: {\"error\":{\"message\":\"overloaded\"}}\n\n") };
        (await SendAsync("solo")).Dispose();
        (await SendAsync("solo")).Dispose();
        _clock.Advance(TimeSpan.FromSeconds(3));

        using var whileIsolated = await SendAsync("solo");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, whileIsolated.StatusCode);
        Assert.Equal("upstream_unavailable", (await Json.ReadAsync(whileIsolated))["error"]!["code"]!.GetValue<string>());
        Assert.Equal("12", whileIsolated.Headers.GetValues("Retry-After").Single());
        Assert.Equal("12000", whileIsolated.Headers.GetValues("retry-after-ms").Single());
        Assert.Equal(2, _primary.Requests.Count);
    }

    [Fact]
    public async Task StreamsThatFailPastTheirHeaders_OpenTheCircuitToo_SoLaterCallersFallBackAtOnce()
    {
        // A 200, then an error event where the first token should be: the HTTP call succeeded, the stream did not.
        _primary.DefaultScript = new UpstreamScript { Inject = (0, "data: {\"error\":{\"message\":\"overloaded\"}}\n\n") };
        for (var i = 0; i < 2; i++)
        {
            using var fellBack = await SendAsync("up");
            Assert.Equal("are you there", Sse.Text(await Sse.ReadAllDataAsync(fellBack)));
            Assert.Equal("2", fellBack.Headers.GetValues("X-Gateway-Attempts").Single());
        }

        using var whileOpen = await SendAsync("up");
        Assert.Equal("are you there", Sse.Text(await Sse.ReadAllDataAsync(whileOpen)));
        Assert.Equal("1", whileOpen.Headers.GetValues("X-Gateway-Attempts").Single());
        Assert.Equal(2, _primary.Requests.Count);
        var (_, open) = await Exposition.ScrapeAsync(_gateway);
        Assert.Equal(1, open[Circuit("p0", "isolated")]);
        // For BreakSeconds, as the log says: not the longest duration there is, which Polly gives a manual isolation.
        Assert.Equal(15_000L, Assert.Single(_logs.Lines, line => line.Values.ContainsKey("BreakMs")).Values["BreakMs"]);

        _primary.DefaultScript = new UpstreamScript();
        _clock.Advance(TimeSpan.FromSeconds(15.1));
        using var afterBreak = await SendAsync("up");
        Assert.Equal("are you there", Sse.Text(await Sse.ReadAllDataAsync(afterBreak)));
        Assert.Equal("1", afterBreak.Headers.GetValues("X-Gateway-Attempts").Single());
        Assert.Equal(3, _primary.Requests.Count);
        var (_, closed) = await Exposition.ScrapeAsync(_gateway);
        Assert.Equal(1, closed[Circuit("p0", "closed")]);
    }

    [Fact]
    public async Task WhileOpen_AFlowNodeFailsAsUnavailable_AsV1AnswersIt()
    {
        _primary.DefaultScript = new UpstreamScript { Status = 500 };
        (await SendAsync("solo")).Dispose();
        (await SendAsync("solo")).Dispose();

        using var response = await _gateway.Client.PostAsync("/api/runs", Json.Body("""
            {"flow":{"id":"open","nodes":[
              {"id":"in","type":"input"},
              {"id":"ask","type":"llm","model":"solo","prompt":"in"},
              {"id":"out","type":"output","from":["ask"]}]},
             "input":"are you there"}
            """));

        var record = await Json.ReadAsync(response);
        Assert.Equal("failed", record["status"]!.GetValue<string>());
        Assert.Equal("upstream_unavailable", record["nodes"]!["ask"]!["error"]!["code"]!.GetValue<string>());
        Assert.Equal(2, _primary.Requests.Count);
    }

    [Fact]
    public async Task ACircuitOpenedByARequestsOwnFailure_RefusesItsRetry_AndTheSentAttemptStillCounts()
    {
        await using var upstream = await FakeUpstream.StartAsync();
        var settings = OwnBreaker(maxRetries: 1, baseDelayMs: 0, failureRatio: "0.6", upstream.BaseUrl);
        await using var gateway = await GatewayHost.StartAsync(settings, services => services.AddSingleton<TimeProvider>(new FakeTimeProvider()));
        // One failure and one success: a ratio of 0.5, under the 0.6 that opens the circuit.
        upstream.Enqueue(new UpstreamScript { Status = 500 });
        using (var first = await gateway.Client.PostAsync("/v1/chat/completions", Json.ChatRequest("up", "x", stream: true)))
        {
            Assert.Equal("2", first.Headers.GetValues("X-Gateway-Attempts").Single());
        }

        // This request's first attempt fails (2 of 3: the circuit opens), and its retry is refused without a request.
        upstream.Enqueue(new UpstreamScript { Status = 500 });
        using var second = await gateway.Client.PostAsync("/v1/chat/completions", Json.ChatRequest("up", "x", stream: true));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, second.StatusCode);
        Assert.Equal(3, upstream.Requests.Count);
        Assert.Equal("1", second.Headers.GetValues("X-Gateway-Attempts").Single());
    }

    /// <summary>
    /// The retry due after the failure that opened the circuit is refused unsent: it is not announced as a retry (no
    /// node.retrying, retry metric or log line), and the call falls back at once, not after its backoff (5 s here, on a
    /// clock that never moves: the old code waited for ever). Until 2026-12-06 (later) it was announced and counted after
    /// its backoff, and a flow's watchers saw attempt 2 twice: a retry, then the fallback.
    /// </summary>
    [Fact]
    public async Task ARetryTheCircuitWillRefuse_IsNotAnnounced_TheCallFallsBackAtOnce()
    {
        await using var failing = await FakeUpstream.StartAsync();
        await using var healthy = await FakeUpstream.StartAsync();
        var settings = OwnBreaker(maxRetries: 2, baseDelayMs: 5000, failureRatio: "0.5", failing.BaseUrl, healthy.BaseUrl);
        var logs = new CapturedLogs();
        await using var gateway = await GatewayHost.StartAsync(settings, services =>
        {
            services.AddSingleton<TimeProvider>(new FakeTimeProvider());
            services.AddSingleton<Microsoft.Extensions.Logging.ILoggerProvider>(logs);
        });
        using (var first = await gateway.Client.PostAsync("/v1/chat/completions", Json.ChatRequest("up", "x", stream: true)))
        {
            Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        }

        // One success, then a failure: 1 of 2, the ratio that opens the circuit, on this call's first attempt.
        failing.DefaultScript = new UpstreamScript { Status = 500 };
        var (_, events) = await RunClient.RunAsync(gateway.Client, "/api/runs", """
            {"flow":{"nodes":[{"id":"in","type":"input"},{"id":"say","type":"llm","model":"up","prompt":"in"},
              {"id":"out","type":"output","from":["say"]}]},"input":"are you there"}
            """).WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal("run.completed", events[^1].Name);
        Assert.Equal(2, failing.Requests.Count);
        var retries = events.Where(e => e.Name == "node.retrying")
            .Select(e => (e.Data["attempt"]!.GetValue<int>(), e.Data["reason"]!.GetValue<string>(), e.Data["fallback"]!.GetValue<bool>()))
            .ToList();
        Assert.Equal([(2, "circuit open", true)], retries);
        Assert.Equal(2, events[^1].Data["nodes"]!["say"]!["attempts"]!.GetValue<int>());
        var (_, samples) = await Exposition.ScrapeAsync(gateway);
        Assert.Equal(0, Exposition.Of(samples, "gateway_retries_total").Values.Sum());
        Assert.DoesNotContain(logs.Lines, line => line.Values.ContainsKey("DelayMs"));
    }

    /// <summary>
    /// Past the break, Polly still says Open until a call arrives, and that call is let through as the half-open probe.
    /// A retry due then is a real one: announced, counted and sent.
    /// </summary>
    [Fact]
    public async Task ARetryDueAfterTheBreakHasPassed_IsAnnouncedAndSent()
    {
        await using var upstream = await FakeUpstream.StartAsync();
        var settings = OwnBreaker(maxRetries: 1, baseDelayMs: 0, failureRatio: "0.5", upstream.BaseUrl);
        settings["Gateway:Resilience:CircuitBreaker:BreakSeconds"] = "15";
        var clock = new FakeTimeProvider();
        await using var gateway = await GatewayHost.StartAsync(settings, services => services.AddSingleton<TimeProvider>(clock));
        // A slow failure; a call whose attempt and retry fail quickly, opening the circuit while the first is still out;
        // then the probe's answer.
        upstream.Enqueue(
            new UpstreamScript { Status = 500, HeadersDelay = TimeSpan.FromSeconds(2) },
            new UpstreamScript { Status = 500 },
            new UpstreamScript { Status = 500 },
            new UpstreamScript());
        var slow = gateway.Client.PostAsync("/v1/chat/completions", Json.ChatRequest("up", "are you there", stream: true));
        await ReplicaPair.WaitUntilAsync(() => Task.FromResult(upstream.Requests.Count == 1));
        using (var opening = await gateway.Client.PostAsync("/v1/chat/completions", Json.ChatRequest("up", "x", stream: true)))
        {
            Assert.Equal(HttpStatusCode.BadGateway, opening.StatusCode); // its attempt and its retry: 2 of 2 failed
        }

        clock.Advance(TimeSpan.FromSeconds(15.1)); // the break is over; nothing has asked the breaker since

        using var answered = await slow;
        Assert.Equal(HttpStatusCode.OK, answered.StatusCode);
        Assert.Equal("are you there", Sse.Text(await Sse.ReadAllDataAsync(answered)));
        Assert.Equal("2", answered.Headers.GetValues("X-Gateway-Attempts").Single());
        Assert.Equal(4, upstream.Requests.Count);
        var (_, samples) = await Exposition.ScrapeAsync(gateway);
        Assert.Equal(2, Exposition.Of(samples, "gateway_retries_total").Values.Sum()); // the opening call's, and this one
    }

    /// <summary>
    /// A retry whose wait (the upstream's Retry-After) ends after the break that its own failure opened is the half-open
    /// probe, not a refusal. Until the review's mend of the mend, such a retry was refused at once and the call failed
    /// 503 though the upstream answered on the next try. On the real clock: 1 s of break, 2 s of Retry-After.
    /// </summary>
    [Fact]
    public async Task ARetryThatWaitsPastTheBreakItsFailureOpened_IsSentAsTheProbe()
    {
        await using var upstream = await FakeUpstream.StartAsync();
        var settings = OwnBreaker(maxRetries: 2, baseDelayMs: 0, failureRatio: "0.5", upstream.BaseUrl);
        settings["Gateway:Resilience:MaxDelayMs"] = "5000";
        settings["Gateway:Resilience:CircuitBreaker:BreakSeconds"] = "1";
        await using var gateway = await GatewayHost.StartAsync(settings);
        upstream.Enqueue(new UpstreamScript { Status = 503, RetryAfter = "2" }, new UpstreamScript { Status = 503, RetryAfter = "2" });

        using var response = await gateway.Client.PostAsync("/v1/chat/completions", Json.ChatRequest("up", "are you there", stream: true));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("are you there", Sse.Text(await Sse.ReadAllDataAsync(response)));
        Assert.Equal(3, upstream.Requests.Count);
        Assert.Equal("3", response.Headers.GetValues("X-Gateway-Attempts").Single());
    }

    /// <summary>
    /// A provider limits each model on its own: one model's 429s are no failure of the provider. Until 2026-12-06 they
    /// opened its circuit, and a healthy model of the same provider answered 503 for BreakSeconds.
    /// </summary>
    [Fact]
    public async Task RateLimits_DoNotOpenTheProvidersCircuit_ButAnAccountOutOfQuotaDoes()
    {
        _primary.DefaultScript = new UpstreamScript { Status = 429, RetryAfter = "0" };
        for (var i = 0; i < 3; i++)
        {
            using var limited = await SendAsync("solo");
            Assert.Equal(HttpStatusCode.ServiceUnavailable, limited.StatusCode);
            Assert.Equal("upstream_rate_limited", (await Json.ReadAsync(limited))["error"]!["code"]!.GetValue<string>());
        }

        _primary.DefaultScript = new UpstreamScript();
        using (var answered = await SendAsync("solo"))
        {
            Assert.Equal(HttpStatusCode.OK, answered.StatusCode);
            Assert.Equal("are you there", Sse.Text(await Sse.ReadAllDataAsync(answered)));
        }

        Assert.Equal(4, _primary.Requests.Count);
        _clock.Advance(TimeSpan.FromSeconds(31)); // a sampling window of its own, where the 429s counted as answers are gone
        _primary.DefaultScript = new UpstreamScript
        {
            Status = 429,
            ErrorBody = """{"error":{"message":"You exceeded your current quota.","type":"insufficient_quota","param":null,"code":"insufficient_quota"}}""",
        };
        (await SendAsync("solo")).Dispose();
        (await SendAsync("solo")).Dispose();
        using var open = await SendAsync("solo");
        Assert.Equal("upstream_unavailable", (await Json.ReadAsync(open))["error"]!["code"]!.GetValue<string>());
        Assert.Equal(6, _primary.Requests.Count);
    }

    [Fact]
    public async Task AnOpenCircuit_SkipsItsDeploymentAtOnceAndFallsBack()
    {
        _primary.DefaultScript = new UpstreamScript { Status = 503 };
        await SendAsync("solo");
        await SendAsync("solo");

        using var response = await SendAsync("up");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("are you there", Sse.Text(await Sse.ReadAllDataAsync(response)));
        Assert.Equal(2, _primary.Requests.Count);
        Assert.Single(_secondary.Requests);
        // The open circuit refused the first deployment before any request: one attempt reached an upstream.
        Assert.Equal("1", response.Headers.GetValues("X-Gateway-Attempts").Single());
    }
}
