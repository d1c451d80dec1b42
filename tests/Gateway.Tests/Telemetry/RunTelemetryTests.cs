using System.Diagnostics;
using System.Net;
using Gateway.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Gateway.Tests.Telemetry;

/// <summary>Flow runs feed the same metrics as /v1 calls, and draw on their key's token budget.</summary>
public sealed class RunTelemetryTests
{
    private const string Run = """
        {"input":"count these words","flow":{"nodes":[{"id":"in","type":"input"},
          {"id":"a","type":"llm","model":"echo","prompt":"in"},{"id":"b","type":"llm","model":"echo","prompt":"in"},
          {"id":"out","type":"output","from":["a","b"]}]}}
        """;

    [Fact]
    public async Task ARun_CountsItsModelCallsAndItsFinalStatus()
    {
        await using var gateway = await GatewayHost.StartAsync(GatewayHost.SimulatedSettings());

        using var response = await gateway.Client.PostAsync("/api/runs", Json.Body(Run));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);

        var (_, samples) = await Exposition.ScrapeAsync(gateway);
        Assert.Equal(1, Exposition.Of(samples, "gateway_runs_total").Single(s => s.Key.Contains("gateway_run_status=\"completed\"", StringComparison.Ordinal)).Value);
        var runCalls = Exposition.Of(samples, "gateway_requests_total").Where(s => s.Key.Contains("gateway_surface=\"runs\"", StringComparison.Ordinal)).ToList();
        Assert.Equal(2, runCalls.Sum(s => s.Value));
        Assert.All(runCalls, s => Assert.Contains("gateway_outcome=\"success\"", s.Key, StringComparison.Ordinal));
    }

    [Fact]
    public async Task ARunsLogLinesCarryItsId_AndItsNodesSpansSitUnderItsSpan()
    {
        var logs = new CapturedLogs();
        using var recorded = new RecordedSpans();
        await using var gateway = await GatewayHost.StartAsync(GatewayHost.SimulatedSettings(), services => services.AddSingleton<ILoggerProvider>(logs));

        using var response = await gateway.Client.PostAsync("/api/runs", Json.Body(Run));
        var runId = (await Json.ReadAsync(response))["runId"]!.GetValue<string>();

        // The summary line of each of its two model calls.
        var summaries = logs.Lines.Where(line => line.EventId == 900).ToList();
        Assert.Equal(2, summaries.Count);
        Assert.All(summaries, line => Assert.Equal(runId, line.Values["RunId"]));
        Activity? run = null;
        for (var waited = 0; run is null && waited < 100; waited++)
        {
            run = recorded.Stopped.SingleOrDefault(span => span.OperationName == "run" && (string?)span.GetTagItem("gateway.run.id") == runId);
            await Task.Delay(50);
        }

        Assert.NotNull(run);
        var nodes = recorded.Stopped.Where(span => span.OperationName == "node" && (string?)span.GetTagItem("gateway.run.id") == runId).ToList();
        Assert.Equal(["a", "b", "in", "out"], nodes.Select(span => (string)span.GetTagItem("gateway.node.id")!).Order(StringComparer.Ordinal));
        Assert.All(nodes, node => Assert.Equal(run.SpanId, node.ParentSpanId));
    }

    [Fact]
    public async Task ARunsEventStream_CountsAsAnOpenStreamOfTheRunsSurface_UntilItCloses()
    {
        await using var gateway = await GatewayHost.StartAsync(GatewayHost.SimulatedSettings(tokenDelayMs: 50));
        var runId = await RunClient.StartInBackgroundAsync(gateway.Client, RunClient.LoremRun(2000));

        double open;
        using (var watching = await RunClient.WatchAsync(gateway.Client, runId))
        {
            open = await OpenRunStreamsAsync(gateway);
        }

        Assert.Equal(1, open);
        for (var waited = 0; waited < 100 && await OpenRunStreamsAsync(gateway) != 0; waited++)
        {
            await Task.Delay(50);
        }

        Assert.Equal(0, await OpenRunStreamsAsync(gateway));
    }

    private static async Task<double> OpenRunStreamsAsync(GatewayHost gateway)
    {
        var (_, samples) = await Exposition.ScrapeAsync(gateway);
        return Exposition.Of(samples, "gateway_streams_open").Single(s => s.Key.Contains("gateway_surface=\"runs\"", StringComparison.Ordinal)).Value;
    }

    [Fact]
    public async Task ANodeOverItsKeysTokenBudget_FailsWithRateLimitExceeded()
    {
        // Slow tokens, so both nodes hold their reservations at once rather than one settling before the other starts.
        var settings = GatewayHost.SimulatedSettings(tokenDelayMs: 100).WithKey(0, "tiny", TestKeys.Limited, role: "admin", tokensPerMinute: 300);
        await using var gateway = await GatewayHost.StartAsync(settings);

        // Each llm node reserves its prompt plus the default 256 completion tokens: the first fits, the second does not.
        using var response = await gateway.Client.SendAsync(TestKeys.Request(HttpMethod.Post, "/api/runs", TestKeys.Limited, Json.Body(Run)));

        var record = await Json.ReadAsync(response);
        Assert.Equal("failed", record["status"]!.GetValue<string>());
        var nodes = record["nodes"]!.AsObject().Where(n => n.Key is "a" or "b").Select(n => n.Value!).ToList();
        Assert.Single(nodes, n => n["status"]!.GetValue<string>() == "completed");
        var failed = Assert.Single(nodes, n => n["status"]!.GetValue<string>() == "failed");
        Assert.Equal("rate_limit_exceeded", failed["error"]!["code"]!.GetValue<string>());
    }

    [Fact]
    public async Task ARunCancelledMidStream_PaysForWhatItStreamed_NotItsWholeEstimate()
    {
        var settings = GatewayHost.SimulatedSettings(tokenDelayMs: 100).WithKey(0, "tiny", TestKeys.Limited, role: "admin", tokensPerMinute: 300);
        await using var gateway = await GatewayHost.StartAsync(settings);
        const string Long = """
            {"input":"go","flow":{"nodes":[{"id":"in","type":"input"},
              {"id":"l","type":"llm","model":"lorem","prompt":"in","maxTokens":200},{"id":"out","type":"output","from":["l"]}]}}
            """;

        // About 200 tokens reserved; a few streamed, and no usage known, when the run is cancelled.
        using var started = await gateway.Client.SendAsync(TestKeys.Request(HttpMethod.Post, "/api/runs?background=true", TestKeys.Limited, Json.Body(Long)));
        var runId = started.Headers.GetValues("X-Run-Id").Single();
        await Task.Delay(400);
        using var cancel = await gateway.Client.SendAsync(TestKeys.Request(HttpMethod.Post, $"/api/runs/{runId}/cancel", TestKeys.Limited));
        Assert.Equal(HttpStatusCode.Accepted, cancel.StatusCode);
        // Ended, so whatever it settles is settled before the next run reserves.
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (await RunStatusAsync(gateway, runId) == "running")
        {
            await Task.Delay(20, deadline.Token);
        }

        // The next run's 256-token estimate fits only in what a few streamed tokens left: the whole estimate kept
        // (until 2026-12-05) left ~100. (TokenBucketTests.Reservation_CutOff_PaysItsPromptAndTheChunksSent: exactly what it pays.)
        using var next = await gateway.Client.SendAsync(TestKeys.Request(HttpMethod.Post, "/api/runs", TestKeys.Limited, Json.Body("""
            {"input":"hi","flow":{"nodes":[{"id":"in","type":"input"},{"id":"a","type":"llm","model":"echo","prompt":"in"},
              {"id":"out","type":"output","from":["a"]}]}}
            """)));
        var record = await Json.ReadAsync(next);
        Assert.Equal("completed", record["status"]!.GetValue<string>());
    }

    private static async Task<string> RunStatusAsync(GatewayHost gateway, string runId)
    {
        using var response = await gateway.Client.SendAsync(TestKeys.Request(HttpMethod.Get, $"/api/runs/{runId}", TestKeys.Limited));
        return (await Json.ReadAsync(response))["status"]!.GetValue<string>();
    }
}
