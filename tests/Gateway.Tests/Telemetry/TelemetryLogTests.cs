using System.Net;
using Gateway.Telemetry;
using Gateway.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Gateway.Tests.Telemetry;

public sealed class TelemetryLogTests
{
    private const string Prompt = "tell nobody about the purple elephant";

    [Fact]
    public async Task EveryCall_LogsOneSummaryLine_WithoutSecretsOrContent()
    {
        await using var upstream = await FakeUpstream.StartAsync();
        var logs = new CapturedLogs();
        var settings = GatewayHost.WithUpstream(GatewayHost.SimulatedSettings(), upstream);
        await using (var gateway = await GatewayHost.StartAsync(settings, services => services.AddSingleton<ILoggerProvider>(logs)))
        {
            using var ok = await gateway.Client.PostAsync("/v1/chat/completions", Json.ChatRequest("up", Prompt, stream: true));
            await ok.Content.ReadAsStringAsync();
            upstream.Enqueue(new UpstreamScript { Status = 401, ErrorBody = $$$"""{"error":{"message":"bad key {{{FakeUpstream.ApiKey}}}","type":"auth"}}""" });
            using var refused = await gateway.Client.PostAsync("/v1/chat/completions", Json.ChatRequest("up", Prompt, stream: false));
            await refused.Content.ReadAsStringAsync();
        }

        var summaries = logs.Lines.Where(line => line.EventId == 900).ToList();
        Assert.Equal(2, summaries.Count);
        var success = summaries[0].Values;
        Assert.Equal("v1", success["Surface"]);
        Assert.Equal("up", success["Model"]);
        Assert.Equal("upstream", success["Provider"]);
        Assert.Equal("anonymous", success["Key"]); // the key's name: there is none on a keyless loopback gateway
        Assert.Equal("success", success["Outcome"]);
        Assert.Equal(1, success["Attempts"]);
        Assert.Equal(3L, success["InputTokens"]);
        Assert.Equal(6L, success["OutputTokens"]);
        Assert.IsType<double>(success["TtftMs"]);
        Assert.IsType<double>(success["DurationMs"]);
        Assert.Equal("error", summaries[1].Values["Outcome"]);
        Assert.Equal("upstream_auth_failed", summaries[1].Values["ErrorType"]);
        // A call that brought no first token says nothing of one, rather than "TTFT  ms".
        Assert.Matches(@", TTFT \d+(\.\d+)? ms, 3\+6 tokens", summaries[0].Message);
        Assert.DoesNotContain("TTFT", summaries[1].Message, StringComparison.Ordinal);
        Assert.Contains("error after 1 attempt(s), ", summaries[1].Message, StringComparison.Ordinal);
        Assert.False(summaries[1].Values.ContainsKey("TtftMs"));

        Assert.NotEmpty(logs.Lines);
        Assert.All(logs.Lines, line =>
        {
            Assert.DoesNotContain(FakeUpstream.ApiKey, line.Everything, StringComparison.Ordinal);
            Assert.DoesNotContain("purple elephant", line.Everything, StringComparison.Ordinal);
        });
    }

    /// <summary>
    /// The upstream's own id for each response (<c>x-request-id</c>) is what its support asks for: the retry line names
    /// the failed attempt's, the summary line the answer's. Until 2026-12-06 neither was logged anywhere.
    /// </summary>
    [Fact]
    public async Task TheUpstreamsRequestIds_AreInTheRetryAndSummaryLines()
    {
        await using var upstream = await FakeUpstream.StartAsync();
        var logs = new CapturedLogs();
        var settings = GatewayHost.WithUpstream(GatewayHost.SimulatedSettings(), upstream);
        settings["Gateway:Resilience:BaseDelayMs"] = "0";
        await using (var gateway = await GatewayHost.StartAsync(settings, services => services.AddSingleton<ILoggerProvider>(logs)))
        {
            upstream.Enqueue(
                new UpstreamScript { Status = 500, Headers = new Dictionary<string, string> { ["x-request-id"] = "req_failed_1" } },
                new UpstreamScript { Headers = new Dictionary<string, string> { ["x-request-id"] = "req_answered_2" } });
            using var streamed = await gateway.Client.PostAsync("/v1/chat/completions", Json.ChatRequest("up", Prompt, stream: true));
            Assert.Equal(HttpStatusCode.OK, streamed.StatusCode);
            await streamed.Content.ReadAsStringAsync();

            // Anthropic's compatible API names it request-id; a value that is no plain token is not logged.
            upstream.Enqueue(
                new UpstreamScript { Status = 500, Headers = new Dictionary<string, string> { ["x-request-id"] = "two words" } },
                new UpstreamScript { Headers = new Dictionary<string, string> { ["request-id"] = "req_anthropic_3" } },
                new UpstreamScript());
            using var whole = await gateway.Client.PostAsync("/v1/chat/completions", Json.ChatRequest("up", Prompt, stream: false));
            Assert.Equal(HttpStatusCode.OK, whole.StatusCode);
            using var none = await gateway.Client.PostAsync("/v1/chat/completions", Json.ChatRequest("up", Prompt, stream: false));
            Assert.Equal(HttpStatusCode.OK, none.StatusCode);
        }

        var retries = logs.Lines.Where(line => line.Values.ContainsKey("DelayMs")).Select(line => line.Values["UpstreamRequestId"]).ToList();
        Assert.Equal(["req_failed_1", "-"], retries);
        var summaries = logs.Lines.Where(line => line.EventId == 900).ToList();
        Assert.Equal(["req_answered_2", "req_anthropic_3", "-"], summaries.Select(line => line.Values["UpstreamRequestId"]));
        Assert.Contains(" ms, upstream request req_answered_2 ", summaries[0].Message, StringComparison.Ordinal);
    }

    /// <summary>
    /// A stream that fails after its headers names its response in the retry line; a fallback names the failed
    /// deployment's last response; the summary names the last response of the deployment that answered, and none when
    /// that one is the simulated provider, not the failed upstream's.
    /// </summary>
    [Fact]
    public async Task TheUpstreamsRequestIds_OfAStreamRetryAndAFallback_NameTheirOwnDeployments()
    {
        await using var upstream = await FakeUpstream.StartAsync();
        var logs = new CapturedLogs();
        var settings = GatewayHost.WithDeployments(GatewayHost.SimulatedSettings(), "two", upstream.BaseUrl, upstream.BaseUrl);
        settings["Gateway:Models:mixed:Deployments:0:Provider"] = "p0";
        settings["Gateway:Models:mixed:Deployments:0:Model"] = "model-0";
        settings["Gateway:Models:mixed:Deployments:1:Provider"] = "simulated";
        settings["Gateway:Models:mixed:Deployments:1:Model"] = "echo";
        static Dictionary<string, string> Id(string id) => new() { ["x-request-id"] = id };
        await using (var gateway = await GatewayHost.StartAsync(settings, services => services.AddSingleton<ILoggerProvider>(logs)))
        {
            upstream.Enqueue(
                new UpstreamScript { Headers = Id("req_error_event_1"), Inject = (0, "data: {\"error\":{\"message\":\"overloaded\"}}\n\n") },
                new UpstreamScript { Headers = Id("req_answer_2") },
                new UpstreamScript { Status = 401, Headers = Id("req_refused_3") },
                new UpstreamScript { Headers = Id("req_fallback_4") },
                new UpstreamScript { Status = 401, Headers = Id("req_refused_5") });
            foreach (var model in new[] { "two", "two", "mixed" })
            {
                using var response = await gateway.Client.PostAsync("/v1/chat/completions", Json.ChatRequest(model, Prompt, stream: true));
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                await response.Content.ReadAsStringAsync();
            }
        }

        Assert.Equal(["req_error_event_1"], logs.Lines.Where(line => line.Values.ContainsKey("DelayMs")).Select(line => line.Values["UpstreamRequestId"]));
        Assert.Equal(
            ["req_refused_3", "req_refused_5"],
            logs.Lines.Where(line => line.Values.ContainsKey("FromProvider")).Select(line => line.Values["UpstreamRequestId"]));
        Assert.Equal(
            [("p0", "req_answer_2"), ("p1", "req_fallback_4"), ("simulated", "-")],
            logs.Lines.Where(line => line.EventId == 900).Select(line => (line.Values["Provider"], line.Values["UpstreamRequestId"])));
    }

    [Fact]
    public async Task ACallerThatLeavesDuringARetryAfterWait_IsLoggedWithTheOneAttemptTheUpstreamSaw_AndCountedWithNoRetry()
    {
        await using var upstream = await FakeUpstream.StartAsync();
        var logs = new CapturedLogs();
        var settings = GatewayHost.WithUpstream(GatewayHost.SimulatedSettings(), upstream);
        await using var gateway = await GatewayHost.StartAsync(settings, services => services.AddSingleton<ILoggerProvider>(logs));
        upstream.Enqueue(new UpstreamScript { Status = 429, RetryAfter = "5" });

        // The caller leaves once the retry's wait has begun (its line is logged as it begins), not after a fixed time
        // that a busy machine may not have reached the 429 by.
        using var leave = new CancellationTokenSource();
        var call = gateway.Client.PostAsync("/v1/chat/completions", Json.ChatRequest("up", Prompt, stream: true), leave.Token);
        await logs.WaitForAsync(line => line.Values.ContainsKey("DelayMs"), TimeSpan.FromSeconds(10));
        await leave.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call);

        var summary = await logs.WaitForAsync(line => line.EventId == 900, TimeSpan.FromSeconds(10));
        Assert.Equal("cancelled", summary.Values["Outcome"]);
        Assert.Equal(1, summary.Values["Attempts"]);
        Assert.Single(upstream.Requests);
        var retrying = Assert.Single(logs.Lines, line => line.Values.ContainsKey("DelayMs"));
        Assert.Equal(2, retrying.Values["Attempt"]);
        // The retry was announced, not sent: gateway_retries_total counted it anyway until 2026-12-06.
        var (_, samples) = await Exposition.ScrapeAsync(gateway);
        Assert.Equal(0, Exposition.Of(samples, "gateway_retries_total").Values.Sum());
        Assert.Equal(1, samples["gateway_requests_total{gateway_outcome=\"cancelled\",gateway_surface=\"v1\",gen_ai_provider_name=\"upstream\",gen_ai_request_model=\"up\"}"]);
    }

    /// <summary>
    /// A retry of a deployment with no HTTP pipeline (the simulated provider) is sent as its stream starts, and counted
    /// then: with d3bc66f's count at the HTTP send, such retries were not counted at all.
    /// </summary>
    [Fact]
    public async Task ARetryOfTheSimulatedProvider_IsCounted()
    {
        var settings = GatewayHost.SimulatedSettings(tokenDelayMs: 1500);
        settings["Gateway:Resilience:FirstTokenTimeoutSeconds"] = "1";
        settings["Gateway:Resilience:MaxRetries"] = "1";
        await using var gateway = await GatewayHost.StartAsync(settings);

        using var response = await gateway.Client.PostAsync("/v1/chat/completions", Json.ChatRequest("echo", Prompt, stream: true));

        Assert.Equal(HttpStatusCode.GatewayTimeout, response.StatusCode);
        Assert.Equal("2", response.Headers.GetValues("X-Gateway-Attempts").Single());
        var (_, samples) = await Exposition.ScrapeAsync(gateway);
        Assert.Equal(1, samples["gateway_retries_total{gateway_reason=\"first-token timeout\",gen_ai_provider_name=\"simulated\",gen_ai_request_model=\"echo\"}"]);
    }

    /// <summary>
    /// A failure of the gateway's own in a model call (here, a handler that throws what no upstream failure is) is a
    /// call all the same: until 2026-12-06 it answered 500 with no summary line and no gateway_requests_total.
    /// </summary>
    [Fact]
    public async Task ACallTheGatewayItselfFails_IsLoggedAndCounted_OnV1AndInARun()
    {
        await using var upstream = await FakeUpstream.StartAsync();
        var logs = new CapturedLogs();
        var settings = GatewayHost.WithUpstream(GatewayHost.SimulatedSettings(), upstream);
        await using var gateway = await GatewayHost.StartAsync(settings, services =>
        {
            services.AddSingleton<ILoggerProvider>(logs);
            services.AddHttpClient(Gateway.Providers.ProviderRegistry.HttpClientName("upstream")).AddHttpMessageHandler(() => new Broken());
        });

        using var streamed = await gateway.Client.PostAsync("/v1/chat/completions", Json.ChatRequest("up", Prompt, stream: true));
        using var whole = await gateway.Client.PostAsync("/v1/chat/completions", Json.ChatRequest("up", Prompt, stream: false));
        using var run = await gateway.Client.PostAsync("/api/runs", Json.Body("""
            {"flow":{"nodes":[{"id":"in","type":"input"},{"id":"say","type":"llm","model":"up","prompt":"in"},
              {"id":"out","type":"output","from":["say"]}]},"input":"hi"}
            """));

        Assert.Equal(HttpStatusCode.InternalServerError, streamed.StatusCode);
        Assert.Equal(HttpStatusCode.InternalServerError, whole.StatusCode);
        Assert.Equal("internal_error", (await Json.ReadAsync(run))["nodes"]!["say"]!["error"]!["code"]!.GetValue<string>());
        Assert.Empty(upstream.Requests);
        var summaries = logs.Lines.Where(line => line.EventId == 900).Select(line => (line.Values["Surface"], line.Values["Outcome"], line.Values["ErrorType"])).ToList();
        Assert.Equal([("v1", "error", "gateway_error"), ("v1", "error", "gateway_error"), ("runs", "error", "internal_error")], summaries);
        var (_, samples) = await Exposition.ScrapeAsync(gateway);
        Assert.Equal(2, samples["gateway_requests_total{gateway_outcome=\"error\",gateway_surface=\"v1\",gen_ai_provider_name=\"upstream\",gen_ai_request_model=\"up\"}"]);
        Assert.Equal(1, samples["gateway_requests_total{gateway_outcome=\"error\",gateway_surface=\"runs\",gen_ai_provider_name=\"upstream\",gen_ai_request_model=\"up\"}"]);
    }

    private sealed class Broken : DelegatingHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
            throw new NotSupportedException("a fault of the gateway's own"); // no upstream failure is one: nothing translates it
    }

    [Fact]
    public async Task WithLogContent_PromptAndCompletionAreLogged()
    {
        var logs = new CapturedLogs();
        var settings = GatewayHost.SimulatedSettings();
        settings["Gateway:Telemetry:LogContent"] = "true";
        await using (var gateway = await GatewayHost.StartAsync(settings, services => services.AddSingleton<ILoggerProvider>(logs)))
        {
            using var response = await gateway.Client.PostAsync("/v1/chat/completions", Json.ChatRequest("echo", Prompt, stream: true));
            await response.Content.ReadAsStringAsync();
        }

        var content = Assert.Single(logs.Lines, line => line.EventId == 901);
        Assert.Equal("user: " + Prompt, content.Values["Prompt"]);
        Assert.Equal(Prompt, content.Values["Completion"]);
    }

    /// <summary>
    /// A caller's escape sequence or carriage return reached the operator's console through the text log as it was sent,
    /// and could rewrite what it showed (until 2026-12-07); the JSON log escapes it itself, so it gets the text as sent.
    /// </summary>
    [Theory]
    [InlineData("text", "clear\\u001b[2J\\u000dline\nnext\ttab")]
    [InlineData("json", "clear\u001b[2J\rline\nnext\ttab")]
    public async Task WithLogContent_ControlCharactersInTheTextLog_AreEscaped(string format, string logged)
    {
        var logs = new CapturedLogs();
        var settings = GatewayHost.SimulatedSettings();
        settings["Gateway:Telemetry:LogContent"] = "true";
        settings["Gateway:Telemetry:LogFormat"] = format;
        await using (var gateway = await GatewayHost.StartAsync(settings, services => services.AddSingleton<ILoggerProvider>(logs)))
        {
            using var response = await gateway.Client.PostAsync("/v1/chat/completions", Json.ChatRequest("echo", "clear\u001b[2J\rline\nnext\ttab", stream: false));
            await response.Content.ReadAsStringAsync();
        }

        var content = Assert.Single(logs.Lines, line => line.EventId == 901);
        Assert.Equal("user: " + logged, content.Values["Prompt"]);
        Assert.Equal(logged, content.Values["Completion"]);
    }

    /// <summary>Until 2026-12-06 a turn that only called functions logged an empty completion, and a tool message no call id.</summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task WithLogContent_ToolCallsAndResultsAreLogged(bool stream)
    {
        var logs = new CapturedLogs();
        var settings = GatewayHost.SimulatedSettings();
        settings["Gateway:Telemetry:LogContent"] = "true";
        await using (var gateway = await GatewayHost.StartAsync(settings, services => services.AddSingleton<ILoggerProvider>(logs)))
        {
            using var response = await gateway.Client.PostAsync("/v1/chat/completions", Json.Body($$$"""
                {"model":"echo","stream":{{{(stream ? "true" : "false")}}},"tool_choice":"required",
                 "tools":[{"type":"function","function":{"name":"get_time"}}],
                 "messages":[{"role":"user","content":"time?"},
                             {"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function","function":{"name":"get_time","arguments":"{\"tz\":\"CET\"}"}}]},
                             {"role":"tool","tool_call_id":"c1","content":"noon"}]}
                """));
            await response.Content.ReadAsStringAsync();
        }

        var content = Assert.Single(logs.Lines, line => line.EventId == 901);
        Assert.Equal("user: time?\nassistant: → get_time {\"tz\":\"CET\"}\ntool (c1): noon", content.Values["Prompt"]);
        Assert.Equal("→ get_time {}", content.Values["Completion"]);
    }

    [Fact]
    public void RunLogScope_PutsTheRunIdOnEveryLineInside()
    {
        var logs = new CapturedLogs();
        using var factory = LoggerFactory.Create(builder => builder.AddProvider(logs));
        var logger = factory.CreateLogger("test");

        using (RunLogScope.Begin(logger, "run-42", "compare"))
        {
            logger.Log(LogLevel.Information, default, "inside", null, static (text, _) => text);
        }

        logger.Log(LogLevel.Information, default, "outside", null, static (text, _) => text);
        Assert.Equal("run-42", logs.Lines[0].Values["RunId"]);
        Assert.Equal("compare", logs.Lines[0].Values["FlowId"]);
        Assert.False(logs.Lines[1].Values.ContainsKey("RunId"));
    }

    [Theory]
    [InlineData("Gateway:Telemetry:LogFormat", "xml", "Gateway:Telemetry:LogFormat")]
    [InlineData("Gateway:Telemetry:OtlpEndpoint", "not a url", "Gateway:Telemetry:OtlpEndpoint")]
    [InlineData("Gateway:Models:echo:Pricing:InputPerMillion", "-1", "Gateway:Models:echo:Pricing:InputPerMillion")]
    public async Task BadTelemetrySettings_StopStartUp_NamingTheKey(string key, string value, string named)
    {
        var settings = GatewayHost.SimulatedSettings();
        settings[key] = value;

        var exception = await Assert.ThrowsAnyAsync<Exception>(() => GatewayHost.StartAsync(settings));

        Assert.Contains(named, exception.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("text", "=> RunId:{0} ")]
    [InlineData("json", "\"RunId\":\"{0}\"")]
    public async Task TheProcess_InJson_OrInTextWithScopesAsked_NamesTheRun_OnItsModelCallsSummaryLine(string format, string runIdShape)
    {
        var settings = GatewayHost.SimulatedSettings();
        settings["Gateway:Telemetry:LogFormat"] = format;
        if (format == "text")
        {
            // As docs/OBSERVABILITY.md says to ask for them: the text format leaves scopes out by default.
            settings["Logging:Console:FormatterName"] = "simple";
            settings["Logging:Console:FormatterOptions:IncludeScopes"] = "true";
        }
        await using var gateway = await GatewayProcess.StartAsync(settings);

        using var response = await gateway.Client.PostAsync("/api/runs", Json.Body(RunClient.LoremRun(maxTokens: 3)));
        var runId = response.Headers.GetValues("X-Run-Id").Single();
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        await gateway.TerminateAsync(TimeSpan.FromSeconds(10));

        // The summary line is written by code that knows nothing of runs; the run's scope names it.
        var output = gateway.Output;
        var summary = output.IndexOf("runs lorem via simulated for key anonymous", StringComparison.Ordinal);
        Assert.True(summary > 0, output);
        // A JSON entry is its one line; a text entry begins at its "info:" line, and its scopes come before the message.
        var start = format == "json" ? output.LastIndexOf('\n', summary) + 1 : output.LastIndexOf("info: ", summary, StringComparison.Ordinal);
        var end = output.IndexOf('\n', summary);
        var entry = output[start..(end < 0 ? output.Length : end)];
        Assert.Contains(string.Format(System.Globalization.CultureInfo.InvariantCulture, runIdShape, runId), entry, StringComparison.Ordinal);
        if (format == "json")
        {
            // Until 2026-12-06 a JSON line had no time at all.
            Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$", System.Text.Json.Nodes.JsonNode.Parse(entry)!["Timestamp"]!.GetValue<string>());
        }
    }

    [Fact]
    public async Task JsonLogFormat_StartsAndServes()
    {
        var settings = GatewayHost.SimulatedSettings();
        settings["Gateway:Telemetry:LogFormat"] = "json";
        await using var gateway = await GatewayHost.StartAsync(settings);

        using var response = await gateway.Client.PostAsync("/v1/chat/completions", Json.ChatRequest("echo", "hi", stream: false));

        response.EnsureSuccessStatusCode();
        var console = gateway.Services.GetRequiredService<Microsoft.Extensions.Options.IOptionsMonitor<Microsoft.Extensions.Logging.Console.ConsoleLoggerOptions>>();
        Assert.Equal("json", console.CurrentValue.FormatterName);
    }
}
