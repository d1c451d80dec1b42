using System.Net;
using Gateway.Runs;
using Gateway.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.Tests.Runs;

/// <summary>
/// <c>POST /api/runs/{runId}/cancel</c> and <c>DisconnectGraceSeconds</c>: a run ends with <c>run.cancelled</c> and
/// its upstream call is aborted, when asked to or when nobody has watched it for the grace; a watcher that comes
/// back in time keeps it running. The upstream goes silent after its first token until the gateway hangs up.
/// </summary>
public sealed class RunCancelTests : IAsyncLifetime
{
    private static readonly TimeSpan Grace = TimeSpan.FromSeconds(5);

    private const string Flow = """
        {"flow":{"id":"stuck","nodes":[{"id":"in","type":"input"},{"id":"talk","type":"llm","model":"up","prompt":"in"},
          {"id":"out","type":"output","from":["talk"]}]},"input":"one two three"}
        """;

    private readonly FakeTimeProvider _clock = new();
    private FakeUpstream _upstream = null!;
    private GatewayHost _gateway = null!;

    public async Task InitializeAsync()
    {
        _upstream = await FakeUpstream.StartAsync();
        _upstream.DefaultScript = new UpstreamScript { Stall = (1, TimeSpan.FromMinutes(2)) };
        var settings = GatewayHost.WithUpstream(GatewayHost.SimulatedSettings(), _upstream);
        settings["Gateway:Streaming:DisconnectGraceSeconds"] = Grace.TotalSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        _gateway = await GatewayHost.StartAsync(settings, services => services.AddSingleton<TimeProvider>(_clock));
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _upstream.DisposeAsync();
    }

    [Fact]
    public async Task Cancel_Is202_TheRunEndsWithRunCancelled_AndTheUpstreamConnectionIsClosed()
    {
        var runId = await RunClient.StartInBackgroundAsync(_gateway.Client, Flow);
        using var watching = await RunClient.WatchAsync(_gateway.Client, runId);
        var events = RunClient.ReadAllAsync(watching);
        await WaitUntilAsync(() => _upstream.Requests.Count == 1);

        using var cancel = await _gateway.Client.PostAsync($"/api/runs/{runId}/cancel", content: null);

        Assert.Equal(HttpStatusCode.Accepted, cancel.StatusCode);
        Assert.Equal($"/api/runs/{runId}", cancel.Headers.Location!.OriginalString);
        var seen = await events.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal("run.cancelled", seen[^1].Name);
        Assert.Equal("cancelled", seen[^1].Data["status"]!.GetValue<string>());
        Assert.Equal(RunState.CancelledByCaller, seen[^1].Data["error"]!["message"]!.GetValue<string>());
        Assert.Single(seen, e => RunClient.TerminalEvents.Contains(e.Name));
        Assert.True((await _upstream.Requests[0].Closed.WaitAsync(TimeSpan.FromSeconds(10))).Aborted);
    }

    [Fact]
    public async Task Cancel_AfterOneBranchFailed_WhileAnotherRuns_EndsTheRunCancelled_WithTheFailureKeptOnItsNode()
    {
        // Two calls at once: whichever reaches the upstream first is refused (400: no retry), the other stalls.
        _upstream.Enqueue(new UpstreamScript { Status = 400 });
        var runId = await RunClient.StartInBackgroundAsync(_gateway.Client, """
            {"flow":{"nodes":[{"id":"in","type":"input"},{"id":"a","type":"llm","model":"up","prompt":"in"},
              {"id":"b","type":"llm","model":"up","prompt":"in"},{"id":"out","type":"output","from":["a","b"]}]},"input":"one two"}
            """);
        using var watching = await RunClient.WatchAsync(_gateway.Client, runId);
        var seen = new List<RunEventItem>();
        await foreach (var item in RunClient.ReadAsync(watching))
        {
            seen.Add(item);
            if (item.Name == "node.failed")
            {
                using var cancel = await _gateway.Client.PostAsync($"/api/runs/{runId}/cancel", content: null);
                Assert.Equal(HttpStatusCode.Accepted, cancel.StatusCode);
            }
        }

        Assert.Equal("run.cancelled", seen[^1].Name);
        Assert.Equal("cancelled", seen[^1].Data["error"]!["code"]!.GetValue<string>());
        var nodes = seen[^1].Data["nodes"]!;
        Assert.Equal(["cancelled", "failed"], new[] { nodes["a"]!["status"]!.GetValue<string>(), nodes["b"]!["status"]!.GetValue<string>() }.Order());
        Assert.Equal("skipped", nodes["out"]!["status"]!.GetValue<string>());
    }

    [Fact]
    public async Task Cancel_OfAFinishedRun_Is409_AndOfAnUnknownRun_Is404()
    {
        var runId = await RunClient.StartInBackgroundAsync(_gateway.Client, Flow);
        await WaitUntilAsync(() => _upstream.Requests.Count == 1);
        (await _gateway.Client.PostAsync($"/api/runs/{runId}/cancel", content: null)).Dispose();
        await WaitForStatusAsync(runId, RunStatus.Cancelled);

        using var again = await _gateway.Client.PostAsync($"/api/runs/{runId}/cancel", content: null);
        using var unknown = await _gateway.Client.PostAsync("/api/runs/run-missing/cancel", content: null);

        Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
    }

    [Fact]
    public async Task LastWatcherLeaves_NoneReturnsWithinTheGrace_TheRunIsCancelled_AndTheUpstreamConnectionClosed()
    {
        var runId = await StartAndLeaveAfterTheFirstTokenAsync();
        await WaitUntilAsync(() => _clock.TimersDueWithin(Grace) == 1);

        _clock.Advance(Grace - TimeSpan.FromSeconds(1));
        Assert.False(CancellationRequested(runId));
        Assert.False(_upstream.Requests[0].Closed.IsCompleted);

        _clock.Advance(TimeSpan.FromSeconds(1));
        Assert.True((await _upstream.Requests[0].Closed.WaitAsync(TimeSpan.FromSeconds(10))).Aborted);
        await WaitForStatusAsync(runId, RunStatus.Cancelled);
        var log = await _gateway.Services.GetRequiredService<IRunStore>().GetEventsAsync(runId, 0, CancellationToken.None);
        Assert.Equal("run.cancelled", log[^1].Name);
        // Told apart from a caller's cancel (until 2026-12-05 both said only "cancelled before it finished").
        Assert.Contains(RunState.CancelledUnwatched, log[^1].Data, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AWatcherReattachesWithinTheGrace_TheRunKeepsRunning()
    {
        var runId = await StartAndLeaveAfterTheFirstTokenAsync();
        await WaitUntilAsync(() => _clock.TimersDueWithin(Grace) == 1);
        _clock.Advance(Grace - TimeSpan.FromSeconds(1));

        using var back = await RunClient.WatchAsync(_gateway.Client, runId, lastEventId: 1);
        var events = RunClient.ReadAllAsync(back);
        _clock.Advance(Grace * 3);

        Assert.False(CancellationRequested(runId));
        Assert.Equal(RunStatus.Running, await StatusAsync(runId));
        Assert.False(_upstream.Requests[0].Closed.IsCompleted);
        // Ended by hand, so the re-attached watcher sees the run through its terminal event.
        (await _gateway.Client.PostAsync($"/api/runs/{runId}/cancel", content: null)).Dispose();
        var seen = await events.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(2, seen[0].Id);
        Assert.Equal("run.cancelled", seen[^1].Name);
    }

    /// <summary>
    /// A HEAD on a live run's events (an uptime monitor's, <c>curl -I</c>) is answered at once with the stream's
    /// headers, and is no watcher: it neither follows the run to its end nor keeps it from its disconnect grace.
    /// </summary>
    [Fact]
    public async Task AHeadOnTheEventsWithinTheGrace_IsAnsweredAtOnce_AndTheRunIsStillCancelledWhenTheGraceRunsOut()
    {
        var runId = await StartAndLeaveAfterTheFirstTokenAsync();
        await WaitUntilAsync(() => _clock.TimersDueWithin(Grace) == 1);
        _clock.Advance(Grace - TimeSpan.FromSeconds(1));

        // Connection: close, so the answer ends only when the gateway has ended the request.
        var head = await RawHttp.ExchangeAsync(
            _gateway.BaseAddress, $"HEAD /api/runs/{runId}/events HTTP/1.1\r\nHost: gateway\r\nConnection: close\r\n\r\n");
        Assert.StartsWith("HTTP/1.1 200 OK\r\n", head, StringComparison.Ordinal);
        Assert.Contains("\r\nContent-Type: text/event-stream\r\n", head, StringComparison.Ordinal);
        Assert.Contains($"\r\nX-Run-Id: {runId}\r\n", head, StringComparison.Ordinal);
        Assert.EndsWith("\r\n\r\n", head, StringComparison.Ordinal);
        Assert.False(CancellationRequested(runId));

        _clock.Advance(TimeSpan.FromSeconds(1));
        Assert.True((await _upstream.Requests[0].Closed.WaitAsync(TimeSpan.FromSeconds(10))).Aborted);
        await WaitForStatusAsync(runId, RunStatus.Cancelled);
    }

    /// <summary>Starts the run as an SSE request, reads up to its first token, and closes the connection.</summary>
    private async Task<string> StartAndLeaveAfterTheFirstTokenAsync()
    {
        // No draining: disposing the response closes the connection, as a closed browser tab does.
        using var client = new HttpClient(new SocketsHttpHandler { MaxResponseDrainSize = 0 }) { BaseAddress = _gateway.BaseAddress };
        var response = await client.SendAsync(RunClient.Request("/api/runs", Flow), HttpCompletionOption.ResponseHeadersRead);
        var runId = response.Headers.GetValues("X-Run-Id").Single();
        await foreach (var item in RunClient.ReadAsync(response))
        {
            if (item.Name == "token")
            {
                break;
            }
        }

        response.Dispose();
        return runId;
    }

    /// <summary>Read at once: the grace timer fires inside <see cref="FakeTimeProvider.Advance"/>.</summary>
    private bool CancellationRequested(string runId) =>
        !_gateway.Services.GetRequiredService<LiveRuns>().TryGet(runId, out var log) || log.Cancellation.IsCancellationRequested;

    private async Task<string> StatusAsync(string runId) =>
        (await _gateway.Services.GetRequiredService<IRunStore>().GetAsync(runId, CancellationToken.None))!.Status;

    private async Task WaitForStatusAsync(string runId, string status)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (await StatusAsync(runId) != status)
        {
            await Task.Delay(20, timeout.Token);
        }
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (!condition())
        {
            await Task.Delay(10, timeout.Token);
        }
    }
}
