using System.Net;
using System.Runtime.CompilerServices;
using Gateway.Runs;
using Gateway.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.Tests.Runs;

/// <summary>
/// A finished run's log let go for the retention budget is free to be collected, and a kept one holds its events
/// alone: the budget bounds memory.
/// </summary>
public sealed class RunLogRetentionTests
{
    [Fact]
    public async Task ALogLetGoForTheBudget_IsCollected_NotHeldForTheWholeRetention()
    {
        await using var gateway = await GatewayHost.StartAsync(SmallBudget());
        var liveRuns = gateway.Services.GetRequiredService<LiveRuns>();

        var first = await RunAsync(gateway, "first");
        var firstLog = WeakLog(liveRuns, first);
        await RunAsync(gateway, "second");           // past the budget: the first run's log is let go

        await LetGoAsync(liveRuns, first);
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (IsAlive(firstLog) && DateTime.UtcNow < deadline)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
            await Task.Delay(10);
        }

        // Its expiry's timer, an hour away, held it (and every run's events) for the whole retention.
        Assert.False(IsAlive(firstLog), "the let-go log is still reachable");
    }

    /// <summary>
    /// A run's log read back from the store is kept, as a finished run's is, and the next watcher reads the same copy.
    /// Until 2026-12-06 (later) every watcher loaded a copy of its own (20 of one large run, a gateway under a 768 MB
    /// limit answered others with OutOfMemoryException).
    /// </summary>
    [Fact]
    public async Task AFinishedRunReadBackFromTheStore_IsReadByItsWatchersFromOneCopy()
    {
        FlakyRunStore? store = null;
        await using var gateway = await GatewayHost.StartAsync(SmallBudget(), services =>
        {
            services.AddFlakyRunStore<Gateway.Storage.SqliteRunStore>(inner => store = new FlakyRunStore(inner));
        });
        var liveRuns = gateway.Services.GetRequiredService<LiveRuns>();
        var first = await RunAsync(gateway, "first");
        await RunAsync(gateway, "second");           // past the budget: the first run's log is let go
        await LetGoAsync(liveRuns, first);

        using var one = await RunClient.WatchAsync(gateway.Client, first);
        Assert.True(liveRuns.TryGet(first, out var readBack), "the log read back is not kept");
        using var two = await RunClient.WatchAsync(gateway.Client, first, lastEventId: 2);
        Assert.True(liveRuns.TryGet(first, out var readAgain));
        Assert.Same(readBack, readAgain);
        // The second watcher reads the kept copy, not one of its own: until 2026-12-06 (evening) the copy was kept but
        // taken for a log still waiting for its end, and each watcher read the store's log again (10 watchers: +430 MB).
        Assert.Equal(1, store!.EventReads);

        var all = await RunClient.ReadAllAsync(one);
        var rest = await RunClient.ReadAllAsync(two);
        Assert.Equal("run.completed", all[^1].Name);
        Assert.Equal(RunClient.Lines(all.Skip(2)), RunClient.Lines(rest));
    }

    [Fact]
    public async Task AnEndedLog_LetsGoOfItsRun_WhichItHeldOnlyToAskWhetherACancelMayEndIt()
    {
        var (log, run) = StartedLog();

        log.End(finished: null);
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (IsAlive(run) && DateTime.UtcNow < deadline)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
            await Task.Delay(10);
        }

        // A kept log held its whole run (the flow, a 400 KB system prompt) outside the retention budget.
        Assert.False(IsAlive(run), "the ended log still holds its run");
        Assert.False(log.Cancel());
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static (RunLog Log, WeakReference<RunStandIn> Run) StartedLog()
    {
        var run = new RunStandIn();
        return (new RunLog("run-1", grace: null, TimeProvider.System, acceptCancel: run.TryAcceptCancel), new WeakReference<RunStandIn>(run));
    }

    /// <summary>Stands in for a <c>FlowRun</c>: what the log's delegate is bound to.</summary>
    private sealed class RunStandIn
    {
        public int CancelsAsked { get; private set; }

        public bool TryAcceptCancel(string reason) => ++CancelsAsked > 0;
    }

    /// <summary>A retention budget of ~5,000 characters of event text: one run of <see cref="RunAsync"/> fills it.</summary>
    private static Dictionary<string, string?> SmallBudget()
    {
        var settings = GatewayHost.SimulatedSettings();
        settings["Gateway:Streaming:EventRetentionMegabytes"] = "0.01";
        return settings;
    }

    /// <summary>Waits until the run's log has been let go (the next run is kept as it ends, just after its answer).</summary>
    private static async Task LetGoAsync(LiveRuns liveRuns, string runId)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (liveRuns.TryGet(runId, out _) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(10);
        }

        Assert.False(liveRuns.TryGet(runId, out _));
    }

    private static async Task<string> RunAsync(GatewayHost gateway, string word)
    {
        var input = word + new string('x', 20_000);
        // A connection of its own, closed after: curl's way.
        using var client = new HttpClient { BaseAddress = gateway.BaseAddress };
        client.DefaultRequestHeaders.ConnectionClose = true;
        using var response = await client.PostAsync("/api/runs", Json.Body($$"""
            {"flow":{"nodes":[{"id":"in","type":"input"},{"id":"say","type":"llm","model":"echo","prompt":"in"},
              {"id":"out","type":"output","from":["say"]}]},"input":"{{input}}"}
            """));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return response.Headers.GetValues("X-Run-Id").Single();
    }

    // Not inlined, so that no strong reference to the log is left in the test's own frame (a debug build keeps every
    // local, the discarded target of TryGetTarget too, alive to the method's end).
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static bool IsAlive<T>(WeakReference<T> reference)
        where T : class => reference.TryGetTarget(out _);

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static WeakReference<RunLog> WeakLog(LiveRuns liveRuns, string runId)
    {
        Assert.True(liveRuns.TryGet(runId, out var log));
        return new WeakReference<RunLog>(log);
    }
}
