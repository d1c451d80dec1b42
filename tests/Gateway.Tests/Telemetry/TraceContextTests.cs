using System.Diagnostics;
using System.Net;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Telemetry;

public sealed class TraceContextTests : IAsyncLifetime
{
    private FakeUpstream _upstream = null!;
    private GatewayHost _gateway = null!;

    public async Task InitializeAsync()
    {
        _upstream = await FakeUpstream.StartAsync();
        _gateway = await GatewayHost.StartAsync(GatewayHost.WithUpstream(GatewayHost.SimulatedSettings(), _upstream));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task ClientTraceparent_IsContinuedOnTheUpstreamRequest(bool stream)
    {
        const string traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = Json.ChatRequest("up", "hello there", stream) };
        request.Headers.Add("traceparent", $"00-{traceId}-00f067aa0ba902b7-01");

        using var response = await _gateway.Client.SendAsync(request);
        await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var traceParent = Assert.Single(_upstream.Requests).TraceParent;
        // Sampled by the caller, sampled upstream: with no exporter here, as with one.
        Assert.Matches($"^00-{traceId}-[0-9a-f]{{16}}-01$", traceParent);
        Assert.DoesNotContain("00f067aa0ba902b7", traceParent, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task TheCallersTraceState_GoesUpstream_ButNotItsBaggage(bool stream)
    {
        const string traceId = "6e0c63257de34c92bf9efcd03927272e";
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = Json.ChatRequest("up", "hello", stream) };
        request.Headers.Add("traceparent", $"00-{traceId}-00f067aa0ba902b7-01");
        request.Headers.Add("tracestate", "vendor=callerstate");
        request.Headers.Add("baggage", "userid=alice,session=SECRETSESSION");

        using var response = await _gateway.Client.SendAsync(request);
        await response.Content.ReadAsStringAsync();

        var sent = Assert.Single(_upstream.Requests);
        Assert.Matches($"^00-{traceId}-[0-9a-f]{{16}}-01$", sent.TraceParent);
        Assert.Equal("vendor=callerstate", sent.TraceState);
        // Until 2026-12-06 (later): "userid = alice, session = SECRETSESSION", to a third-party provider.
        Assert.Equal("", sent.Baggage);
    }

    [Fact]
    public async Task ATraceTheCallerDoesNotRecord_IsNotRecordedUpstream()
    {
        const string traceId = "5555555555555555555555555555555a";
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = Json.ChatRequest("up", "hello", stream: true) };
        request.Headers.Add("traceparent", $"00-{traceId}-2222222222222222-00");

        using var response = await _gateway.Client.SendAsync(request);
        await response.Content.ReadAsStringAsync();

        Assert.Matches($"^00-{traceId}-[0-9a-f]{{16}}-00$", Assert.Single(_upstream.Requests).TraceParent);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task EachRetry_CarriesItsOwnSpanUpstream_NotTheFailedAttempts(bool stream)
    {
        const string traceId = "0af7651916cd43dd8448eb211c80319c";
        _upstream.Enqueue(new UpstreamScript { Status = 503 }, new UpstreamScript { Status = 503 });
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = Json.ChatRequest("up", "hello", stream) };
        request.Headers.Add("traceparent", $"00-{traceId}-b7ad6b7169203331-01");

        using var response = await _gateway.Client.SendAsync(request);
        await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var sent = _upstream.Requests.Select(r => r.TraceParent).ToList();
        Assert.Equal(3, sent.Count);
        Assert.All(sent, traceParent => Assert.Matches($"^00-{traceId}-[0-9a-f]{{16}}-01$", traceParent));
        Assert.Equal(3, sent.Distinct(StringComparer.Ordinal).Count());
    }

    [Fact]
    public async Task RoutingAndAttemptSpans_AreRecordedUnderTheClientsTrace()
    {
        const string traceId = "0af7651916cd43dd8448eb211c80319c";
        using var recorded = new RecordedSpans();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = Json.ChatRequest("up", "hello", stream: true) };
        request.Headers.Add("traceparent", $"00-{traceId}-b7ad6b7169203331-01");

        using (var response = await _gateway.Client.SendAsync(request))
        {
            await response.Content.ReadAsStringAsync();
        }

        var ours = recorded.Stopped.Where(span => span.TraceId.ToHexString() == traceId).ToList();
        var routing = Assert.Single(ours, span => span.DisplayName == "chat up");
        var attempt = Assert.Single(ours, span => span.DisplayName == "chat test-model");
        Assert.Equal(routing.SpanId, attempt.ParentSpanId);
        Assert.Equal(ActivityKind.Client, attempt.Kind);
        Assert.Equal("upstream", attempt.GetTagItem("gen_ai.provider.name"));
        Assert.Equal("up", routing.GetTagItem("gen_ai.request.model"));
    }

    [Fact]
    public async Task AFailedAttemptsSpan_NamesItsErrorTypeAsTheMetricsDo()
    {
        using var recorded = new RecordedSpans();
        _upstream.Enqueue(new UpstreamScript { Status = 400 });
        // A trace of its own: the recorder hears every test's spans.
        const string traceId = "5c1e0c2fbd3a4e8f9b7d6a5c4b3a2f10";
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = Json.ChatRequest("up", "refused", stream: true) };
        request.Headers.Add("traceparent", $"00-{traceId}-b7ad6b7169203331-01");

        using var response = await _gateway.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var attempt = Assert.Single(recorded.Stopped, span => span.TraceId.ToHexString() == traceId && span.DisplayName == "chat test-model");
        Assert.Equal("upstream_rejected", attempt.GetTagItem("error.type"));
    }

    [Theory]
    [InlineData("before its first token", true)]
    [InlineData("mid-stream", true)]
    [InlineData("before its first token", false)]
    public async Task ARoutedCallThatFails_MarksItsRoutingSpan_WithTheErrorTypeOfItsMetrics(string when, bool stream)
    {
        using var recorded = new RecordedSpans();
        var traceId = ActivityTraceId.CreateRandom().ToHexString();
        if (when == "mid-stream")
        {
            _upstream.Enqueue(new UpstreamScript { Tokens = ["one ", "two "], DropAfterTokens = 1, TokenDelay = TimeSpan.FromMilliseconds(50) });
        }
        else
        {
            _upstream.Enqueue(new UpstreamScript { Status = 400 });
        }

        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = Json.ChatRequest("up", "hello", stream) };
        request.Headers.Add("traceparent", $"00-{traceId}-b7ad6b7169203331-01");
        using (var response = await _gateway.Client.SendAsync(request))
        {
            await response.Content.ReadAsStringAsync();
        }

        var routing = await StoppedAsync(recorded, traceId, "chat up");
        Assert.Equal(ActivityStatusCode.Error, routing.Status);
        Assert.Equal(when == "mid-stream" ? "upstream_error" : "upstream_rejected", routing.GetTagItem("error.type"));
    }

    [Fact]
    public async Task EachRetry_IsAnEventOnItsAttemptsSpan()
    {
        using var recorded = new RecordedSpans();
        var traceId = ActivityTraceId.CreateRandom().ToHexString();
        _upstream.Enqueue(new UpstreamScript { Status = 503 }, new UpstreamScript { Status = 500 });
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = Json.ChatRequest("up", "hello", stream: true) };
        request.Headers.Add("traceparent", $"00-{traceId}-b7ad6b7169203331-01");

        using (var response = await _gateway.Client.SendAsync(request))
        {
            await response.Content.ReadAsStringAsync();
        }

        var attempt = await StoppedAsync(recorded, traceId, "chat test-model");
        var retries = attempt.Events.ToList();
        Assert.Equal(["retry", "retry"], retries.Select(e => e.Name));
        Assert.Equal(["HTTP 503", "HTTP 500"], retries.Select(e => e.Tags.Single(t => t.Key == "gateway.reason").Value as string));
        Assert.Equal([2, 3], retries.Select(e => (int)e.Tags.Single(t => t.Key == "gateway.attempt").Value!));
    }

    [Fact]
    public async Task AFailedNode_MarksItsSpanAndItsRunsSpan()
    {
        using var recorded = new RecordedSpans();
        var traceId = ActivityTraceId.CreateRandom().ToHexString();
        _upstream.Enqueue(new UpstreamScript { Status = 400 });
        const string run = """{"flow":{"id":"traced","nodes":[{"id":"in","type":"input"},{"id":"ask","type":"llm","model":"up","prompt":"in"},{"id":"out","type":"output","from":["ask"]}]},"input":"hi"}""";
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/runs") { Content = Json.Body(run) };
        request.Headers.Add("traceparent", $"00-{traceId}-b7ad6b7169203331-01");

        using (var response = await _gateway.Client.SendAsync(request))
        {
            Assert.Equal("failed", (await Json.ReadAsync(response))["status"]!.GetValue<string>());
        }

        var node = await StoppedAsync(recorded, traceId, "node ask");
        var runSpan = await StoppedAsync(recorded, traceId, "run traced");
        Assert.Equal((ActivityStatusCode.Error, "upstream_rejected"), (node.Status, node.GetTagItem("error.type")));
        Assert.Equal((ActivityStatusCode.Error, "upstream_rejected"), (runSpan.Status, runSpan.GetTagItem("error.type")));
        Assert.Equal(ActivityStatusCode.Unset, (await StoppedAsync(recorded, traceId, "node in")).Status);
    }

    /// <summary>The span of that name in that trace, once stopped (a stream's spans stop as its response ends).</summary>
    private static async Task<Activity> StoppedAsync(RecordedSpans recorded, string traceId, string name)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (true)
        {
            if (recorded.Stopped.SingleOrDefault(span => span.TraceId.ToHexString() == traceId && span.DisplayName == name) is { } span)
            {
                return span;
            }

            Assert.True(DateTime.UtcNow < deadline, $"No span '{name}' stopped in trace {traceId}.");
            await Task.Delay(20);
        }
    }

    [Fact]
    public async Task WithoutTraceparent_TheUpstreamStillGetsOneOfANewTrace()
    {
        using var response = await _gateway.Client.PostAsync("/v1/chat/completions", Json.ChatRequest("up", "hello", stream: true));
        await response.Content.ReadAsStringAsync();

        Assert.Matches("^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$", Assert.Single(_upstream.Requests).TraceParent);
    }

    /// <summary>
    /// A later version's traceparent, with a field version 00 does not know, is read as version 00 (W3C Trace Context
    /// §3.2.4). Until 2026-12-06 it made a span of .NET's hierarchical format: x-request-id all zeros for every such
    /// request, the header's text in every JSON log line's TraceId, and no traceparent upstream.
    /// </summary>
    [Fact]
    public async Task ALaterVersionsTraceparent_IsContinuedAsVersion00()
    {
        const string traceId = "0af7651916cd43dd8448eb211c80319c";
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = Json.ChatRequest("up", "hello", stream: true) };
        request.Headers.TryAddWithoutValidation("traceparent", $"01-{traceId}-b7ad6b7169203331-01-what version 01 adds");

        using var response = await _gateway.Client.SendAsync(request);
        await response.Content.ReadAsStringAsync();

        Assert.Matches($"^{traceId}-[0-9a-f]{{16}}$", response.Headers.GetValues("x-request-id").Single());
        Assert.Matches($"^00-{traceId}-[0-9a-f]{{16}}-01$", Assert.Single(_upstream.Requests).TraceParent);
    }

    /// <summary>What is no W3C traceparent of any version starts a trace of the gateway's own, as no header would.</summary>
    [Theory]
    [InlineData("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-version 00 has no more fields")]
    [InlineData("traceparent", "ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")]
    [InlineData("traceparent", "01-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01x")]
    [InlineData("traceparent", "not a trace at all")]
    [InlineData("Request-Id", "|legacy-hierarchical-id.1.")]
    public async Task AHeaderThatIsNoTraceparent_StartsATraceOfItsOwn(string header, string value)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = Json.ChatRequest("up", "hello", stream: true) };
        request.Headers.TryAddWithoutValidation(header, value);

        using var response = await _gateway.Client.SendAsync(request);
        await response.Content.ReadAsStringAsync();

        var requestId = response.Headers.GetValues("x-request-id").Single();
        Assert.Matches("^[0-9a-f]{32}-[0-9a-f]{16}$", requestId);
        Assert.DoesNotContain("0af7651916cd43dd8448eb211c80319c", requestId, StringComparison.Ordinal);
        Assert.DoesNotMatch("^0+-0+$", requestId);
        Assert.Matches("^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$", Assert.Single(_upstream.Requests).TraceParent);
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _upstream.DisposeAsync();
    }
}
