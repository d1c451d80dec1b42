using System.Net;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Telemetry;

/// <summary>
/// A scripted mix of /v1 requests (success, retry, fallback, upstream failure, failure mid-stream, client cancel)
/// against two upstreams, then <c>/metrics</c> is read back and checked exactly, and linted by <c>promtool</c>.
/// </summary>
public sealed class MetricsEndpointTests : IAsyncLifetime
{
    private FakeUpstream _primary = null!;
    private FakeUpstream _secondary = null!;
    private GatewayHost _gateway = null!;

    public async Task InitializeAsync()
    {
        _primary = await FakeUpstream.StartAsync();
        _secondary = await FakeUpstream.StartAsync();
        var settings = GatewayHost.WithDeployments(GatewayHost.SimulatedSettings(), "up", _primary.BaseUrl, _secondary.BaseUrl);
        GatewayHost.WithAlias(settings, "solo", "p0", "solo-model");
        settings["Gateway:Models:up:Pricing:InputPerMillion"] = "1000000";
        settings["Gateway:Models:up:Pricing:OutputPerMillion"] = "2000000";
        settings["Gateway:Resilience:MaxRetries"] = "1";
        // The mix fails often on purpose; the breaker must not open in the middle of it.
        settings["Gateway:Resilience:CircuitBreaker:MinimumThroughput"] = "1000";
        _gateway = await GatewayHost.StartAsync(settings);
    }

    [Fact]
    public async Task Metrics_AfterScriptedMix_ShowExactCounts()
    {
        await RunScriptedMixAsync();

        var (_, samples) = await Exposition.ScrapeAsync(_gateway);

        Assert.Equal(new Dictionary<string, double>
        {
            [Requests("up", "p0", "success")] = 3,
            [Requests("up", "p1", "success")] = 1,
            [Requests("solo", "p0", "error")] = 1,
            [Requests("up", "p0", "stream_error")] = 1,
            [Requests("up", "p0", "cancelled")] = 1,
        }, Exposition.Of(samples, "gateway_requests_total"));
        Assert.Equal(new Dictionary<string, double>
        {
            ["gateway_retries_total{gateway_reason=\"HTTP 503\",gen_ai_provider_name=\"p0\",gen_ai_request_model=\"up\"}"] = 2,
            ["gateway_retries_total{gateway_reason=\"HTTP 500\",gen_ai_provider_name=\"p0\",gen_ai_request_model=\"solo\"}"] = 1,
        }, Exposition.Of(samples, "gateway_retries_total"));
        Assert.Equal(new Dictionary<string, double>
        {
            ["gateway_fallbacks_total{gateway_reason=\"HTTP 503\",gen_ai_provider_name=\"p0\",gen_ai_request_model=\"up\"}"] = 1,
        }, Exposition.Of(samples, "gateway_fallbacks_total"));

        // Three words in, three words out, at $1 and $2 per token: $9 per successful call of "up". The stream broken
        // after two tokens and the one left after its first count what they were seen to spend: the prompt's estimate
        // (13 characters, 4 tokens) and a token per chunk, $8 and $6.
        Assert.Equal(27 + 8 + 6, samples["gateway_usage_cost_usd_total{gen_ai_provider_name=\"p0\",gen_ai_request_model=\"up\"}"]);
        Assert.Equal(9, samples["gateway_usage_cost_usd_total{gen_ai_provider_name=\"p1\",gen_ai_request_model=\"up\"}"]);
        Assert.Equal(5, samples[TokenUsage("count", "p0", "output")]);
        Assert.Equal(9 + 2 + 1, samples[TokenUsage("sum", "p0", "output")]);

        // Time to first token: the two streamed successes on p0, the one that failed mid-stream and the cancelled one.
        Assert.Equal(4, samples["gen_ai_server_time_to_first_token_seconds_count{gen_ai_operation_name=\"chat\",gen_ai_provider_name=\"p0\",gen_ai_request_model=\"up\"}"]);
        Assert.Equal(0, samples["gateway_streams_open{gateway_surface=\"v1\"}"]);
        Assert.Equal(1, samples["gateway_circuit_breaker_state{gateway_circuit_state=\"closed\",gen_ai_provider_name=\"p0\"}"]);
        Assert.Equal(0, samples["gateway_circuit_breaker_state{gateway_circuit_state=\"open\",gen_ai_provider_name=\"p0\"}"]);
    }

    [Fact]
    public async Task AnUpstreamsOwnErrorCode_ReachesTheCaller_ButNeverBecomesAMetricLabel()
    {
        foreach (var code in new[] { "LABEL-INJECT-1", "LABEL-INJECT-2" })
        {
            _primary.Enqueue(new UpstreamScript { Status = 400, ErrorBody = $$$"""{"error":{"message":"no","type":"invalid_request_error","code":"{{{code}}}"}}""" });
            using var response = await _gateway.Client.PostAsync("/v1/chat/completions", Json.ChatRequest("solo", "hi", stream: false));
            Assert.Equal(code, (await Json.ReadAsync(response))["error"]!["code"]!.GetValue<string>());
        }

        var (text, _) = await Exposition.ScrapeAsync(_gateway);

        Assert.DoesNotContain("LABEL-INJECT", text, StringComparison.Ordinal);
        Assert.Contains("error_type=\"upstream_rejected\"", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Metrics_PassPromtoolCheck()
    {
        await RunScriptedMixAsync();
        var (text, _) = await Exposition.ScrapeAsync(_gateway);

        var (exitCode, output) = await Tool.RunAsync("promtool", "check metrics", text);

        Assert.True(exitCode == 0 && output.Trim().Length == 0, $"promtool check metrics ({exitCode}):\n{output}\n---\n{text}");
        Assert.Contains("# TYPE gateway_requests_total counter", text, StringComparison.Ordinal);
        Assert.Contains("# TYPE gen_ai_client_operation_duration_seconds histogram", text, StringComparison.Ordinal);
        Assert.Contains("le=\"+Inf\"", text, StringComparison.Ordinal);
        Assert.Contains("http_server_request_duration_seconds_count{http_request_method=\"POST\",http_response_status_code=\"502\",http_route=\"/v1/chat/completions\"", text, StringComparison.Ordinal);
    }

    /// <summary>What every Prometheus client exports of its process (absent until 2026-12-07).</summary>
    [Fact]
    public async Task Metrics_SayTheProcessesCpuMemoryAndStartTime()
    {
        var (_, samples) = await Exposition.ScrapeAsync(_gateway);

        Assert.InRange(samples["process_cpu_time_seconds_total"], 0.1, 3600);
        Assert.InRange(samples["process_memory_usage_bytes"], 10e6, 10e9);
        var started = DateTimeOffset.FromUnixTimeMilliseconds((long)(samples["process_start_time_seconds"] * 1000));
        Assert.InRange(started, System.Diagnostics.Process.GetCurrentProcess().StartTime.AddSeconds(-1), DateTimeOffset.Now.AddSeconds(1));
    }

    [Fact]
    public async Task Metrics_AreNotInTheOpenApiDocument()
    {
        using var response = await _gateway.Client.GetAsync("/swagger/v1/swagger.json");
        Assert.DoesNotContain("/metrics", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AStreamCutOff_CountsThePromptsEstimate_AndATokenPerChunkSeen()
    {
        // Tokens apart, so that each is read before the connection's reset (which discards what is unread).
        _primary.Enqueue(new UpstreamScript { Tokens = ["one ", "two ", "three ", "four"], DropAfterTokens = 3, TokenDelay = TimeSpan.FromMilliseconds(150) });
        await StreamAsync("up", HttpStatusCode.OK);                          // breaks after three tokens
        await CancelMidStreamAsync();                                        // left after its first token

        var (_, samples) = await Exposition.ScrapeAsync(_gateway);

        // "one two three" is 13 characters: 4 tokens by the estimate, for each call.
        Assert.Equal(2, samples[TokenUsage("count", "p0", "input")]);
        Assert.Equal(4 + 4, samples[TokenUsage("sum", "p0", "input")]);
        Assert.Equal(3 + 1, samples[TokenUsage("sum", "p0", "output")]);
        Assert.Equal((4 * 1) + (3 * 2) + (4 * 1) + (1 * 2), samples["gateway_usage_cost_usd_total{gen_ai_provider_name=\"p0\",gen_ai_request_model=\"up\"}"]);
    }

    [Fact]
    public async Task AServerThatReportsNoUsage_CountsThePromptsEstimate_AndTheAnswerAsSeen()
    {
        _primary.Enqueue(new UpstreamScript { OmitUsage = true }, new UpstreamScript { OmitUsage = true });
        await StreamAsync("up", HttpStatusCode.OK);                          // "one ", "two ", "three": 3 chunks
        using (var whole = await _gateway.Client.PostAsync("/v1/chat/completions", Json.ChatRequest("up", "one two three", stream: false)))
        {
            Assert.Equal(HttpStatusCode.OK, whole.StatusCode);               // "one two three": 13 characters, 4 tokens
        }

        var (_, samples) = await Exposition.ScrapeAsync(_gateway);

        Assert.Equal(4 + 4, samples[TokenUsage("sum", "p0", "input")]);
        Assert.Equal(3 + 4, samples[TokenUsage("sum", "p0", "output")]);
    }

    [Fact]
    public async Task AStreamThatFailsBeforeItsFirstToken_CountsNoTokens()
    {
        _primary.Enqueue(new UpstreamScript { Status = 400, ErrorBody = """{"error":{"message":"no","type":"invalid_request_error"}}""" });
        await StreamAsync("up", HttpStatusCode.BadRequest);

        var (text, _) = await Exposition.ScrapeAsync(_gateway);

        Assert.DoesNotContain("gen_ai_client_token_usage_count", text, StringComparison.Ordinal);
        Assert.DoesNotContain("gateway_usage_cost_usd_total", text, StringComparison.Ordinal);
    }

    private static string TokenUsage(string series, string provider, string type) =>
        $"gen_ai_client_token_usage_{series}{{gen_ai_operation_name=\"chat\",gen_ai_provider_name=\"{provider}\",gen_ai_request_model=\"up\",gen_ai_token_type=\"{type}\"}}";

    private static string Requests(string model, string provider, string outcome) =>
        $"gateway_requests_total{{gateway_outcome=\"{outcome}\",gateway_surface=\"v1\",gen_ai_provider_name=\"{provider}\",gen_ai_request_model=\"{model}\"}}";

    private async Task RunScriptedMixAsync()
    {
        var unavailable = new UpstreamScript { Status = 503 };

        await StreamAsync("up", HttpStatusCode.OK);                          // success
        _primary.Enqueue(unavailable);
        await StreamAsync("up", HttpStatusCode.OK);                          // one retry, then success
        _primary.Enqueue(unavailable, unavailable);
        await StreamAsync("up", HttpStatusCode.OK);                          // retry, then fallback to p1
        _primary.Enqueue(new UpstreamScript { Status = 500 }, new UpstreamScript { Status = 500 });
        await StreamAsync("solo", HttpStatusCode.BadGateway);                // retry, then failure
        using (var complete = await _gateway.Client.PostAsync("/v1/chat/completions", Json.ChatRequest("up", "one two three", stream: false)))
        {
            Assert.Equal(HttpStatusCode.OK, complete.StatusCode);            // success, not streamed
        }

        _primary.Enqueue(new UpstreamScript { DropAfterTokens = 2, TokenDelay = TimeSpan.FromMilliseconds(30) });
        await StreamAsync("up", HttpStatusCode.OK);                          // fails mid-stream
        await CancelMidStreamAsync();
    }

    private async Task StreamAsync(string model, HttpStatusCode expected)
    {
        using var response = await _gateway.Client.PostAsync("/v1/chat/completions", Json.ChatRequest(model, "one two three", stream: true));
        Assert.Equal(expected, response.StatusCode);
        await response.Content.ReadAsStringAsync();
    }

    /// <summary>Reads the first event of a slow stream, hangs up, and waits for the gateway to count the cancel.</summary>
    private async Task CancelMidStreamAsync()
    {
        // A second between tokens: the gateway has sent the first alone when the caller leaves.
        _primary.Enqueue(new UpstreamScript { Tokens = [.. Enumerable.Repeat("word ", 100)], TokenDelay = TimeSpan.FromSeconds(1) });
        // No draining of the unread rest: disposing the response closes the connection at once.
        using var client = new HttpClient(new SocketsHttpHandler { MaxResponseDrainSize = 0 }) { BaseAddress = _gateway.BaseAddress };
        using (var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = Json.ChatRequest("up", "one two three", stream: true) })
        using (var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead))
        {
            await foreach (var _ in Sse.ReadAsync(response))
            {
                break;
            }
        }

        var deadline = DateTime.UtcNow.AddSeconds(10);
        string text;
        while (!Exposition.Parse(text = (await Exposition.ScrapeAsync(_gateway)).Text).ContainsKey(Requests("up", "p0", "cancelled")))
        {
            Assert.True(DateTime.UtcNow < deadline, "The cancelled stream was never counted:\n" + text);
            await Task.Delay(50);
        }
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _primary.DisposeAsync();
        await _secondary.DisposeAsync();
    }
}
