using System.Net;
using Gateway.Runs;
using Gateway.Storage;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Runs;

/// <summary>
/// A run's record is saved whenever a node starts or ends, before the event is sent: whoever reads the record after an
/// event finds the event in it. A flow of 254 parallel nodes saved its record, megabytes by its end, ~760 times (13 s of
/// writes); the events the nodes have already sent when one is stored now share its save.
/// </summary>
public sealed class RunRecordSaveTests
{
    /// <summary>Enough that the 84 node events, all sent before the first is read, fill one save's 64 and start another.</summary>
    private const int Branches = 40;

    [Fact]
    public async Task NodesEndingTogether_ShareSavesOfTheRecord_AndEachNodeEventIsInTheRecordBeforeAWatcherGetsIt()
    {
        var saves = 0;
        await using var gateway = await GatewayHost.StartAsync(GatewayHost.SimulatedSettings(), services =>
        {
            services.AddFlakyRunStore<SqliteRunStore>(inner => new FlakyRunStore(inner)
            {
                // Slow saves: a watcher sent an event before its save would read the record before the save is done.
                BeforeSave = () =>
                {
                    Interlocked.Increment(ref saves);
                    return Task.Delay(20);
                },
            });
        });
        var branches = Enumerable.Range(0, Branches).Select(i => $$$"""{"id":"p{{{i}}}","type":"prompt","template":"{{in}} {{{i}}}"}""");
        var from = string.Join(",", Enumerable.Range(0, Branches).Select(i => $"\"p{i}\""));
        var run = $$"""
            {"flow":{"nodes":[{"id":"in","type":"input"},{{string.Join(",", branches)}},{"id":"out","type":"output","from":[{{from}}]}]},"input":"go"}
            """;

        using var response = await gateway.Client.SendAsync(RunClient.Request("/api/runs?stream=true", run), HttpCompletionOption.ResponseHeadersRead);
        var runId = response.Headers.GetValues(RunLauncher.RunIdHeader).Single();
        var nodeEvents = 0;
        await foreach (var item in RunClient.ReadAsync(response))
        {
            if (item.Name is not ("node.started" or "node.completed"))
            {
                continue;
            }

            nodeEvents++;
            var node = item.Data["node"]!.GetValue<string>();
            using var read = await gateway.Client.GetAsync($"/api/runs/{runId}");
            var record = await Json.ReadAsync(read);
            var status = record["nodes"]![node]!["status"]!.GetValue<string>();
            Assert.True(
                item.Name == "node.started" ? status is "running" or "completed" : status == "completed",
                $"{item.Name} of {node} (event {item.Id}) sent while the record said {status}");
        }

        Assert.Equal(2 * (Branches + 2), nodeEvents);
        Assert.InRange(saves, 1, 3); // one a node event before: 84
    }

    /// <summary>
    /// A node's first token saves the record too (its call's route is in it from then on), and is not held back behind
    /// its own tokens: a stream that never pauses held its first token and node.started behind 63 of its tokens'
    /// appends in the first version (found by review).
    /// </summary>
    [Fact]
    public async Task ANodesFirstToken_IsInTheRecordWithItsRoute_BeforeAWatcherGetsIt()
    {
        await using var gateway = await GatewayHost.StartAsync(GatewayHost.SimulatedSettings(tokenDelayMs: 25), services =>
        {
            services.AddFlakyRunStore<SqliteRunStore>(inner => new FlakyRunStore(inner)
            {
                BeforeSave = () => Task.Delay(20),
            });
        });
        const string Run = """
            {"flow":{"nodes":[{"id":"in","type":"input"},{"id":"talk","type":"llm","model":"lorem","prompt":"in","maxTokens":30},
              {"id":"out","type":"output","from":["talk"]}]},"input":"go"}
            """;

        using var response = await gateway.Client.SendAsync(RunClient.Request("/api/runs?stream=true", Run), HttpCompletionOption.ResponseHeadersRead);
        var runId = response.Headers.GetValues(RunLauncher.RunIdHeader).Single();
        var first = await RunClient.ReadAsync(response).FirstAsync(item => item.Name == "token");
        using var read = await gateway.Client.GetAsync($"/api/runs/{runId}");
        var record = (await Json.ReadAsync(read))["nodes"]!["talk"]!;

        // The stream goes on for ~0.7 s: only the first token's save can have put the route in the record by now.
        Assert.Equal(("running", "simulated"), (record["status"]!.GetValue<string>(), record["provider"]?.GetValue<string>()));
        Assert.Equal(5, first.Id); // run.started, in's two events, talk's node.started, then this
    }

    /// <summary>
    /// A store slower than a node's tokens takes them in bursts, one write each (one turn at SQLite's writer, one round
    /// trip to PostgreSQL), not one write a token; every event still reaches the watcher, in order.
    /// </summary>
    [Fact]
    public async Task TokensComingFasterThanTheStoreWrites_AreStoredInBursts_AndAllReachTheWatcherInOrder()
    {
        var writes = 0;
        await using var gateway = await GatewayHost.StartAsync(GatewayHost.SimulatedSettings(), services =>
        {
            services.AddFlakyRunStore<SqliteRunStore>(inner => new FlakyRunStore(inner)
            {
                EventsWriteDelay = TimeSpan.FromMilliseconds(5),
                OnRunWrite = _ => Interlocked.Increment(ref writes),
            });
        });

        var (response, events) = await RunClient.RunAsync(gateway.Client, "/api/runs?stream=true", RunClient.LoremRun(maxTokens: 200));

        using (response)
        {
            Assert.Equal(Enumerable.Range(1, events.Count).Select(id => (long)id), events.Select(item => item.Id));
            Assert.Equal(200, events.Count(item => item.Name == "token"));
            Assert.Equal("run.completed", events[^1].Name);
            Assert.InRange(writes, 3, 30); // the run's creation and its events in bursts of up to 64; one write an event before: 209
        }
    }

    /// <summary>
    /// A write stores up to 64 events before the live log has them, and a watcher elsewhere may have been sent them: a
    /// resume from the middle of such a write, more than one past the live log's end, gets exactly the events after it.
    /// </summary>
    [Fact]
    public async Task AResumeFromInsideAWriteTheLiveLogHasNotYetGot_GetsExactlyTheEventsAfterIt()
    {
        var stored = new TaskCompletionSource<IReadOnlyList<RunEventEntry>>(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var gateway = await GatewayHost.StartAsync(GatewayHost.SimulatedSettings(), services =>
        {
            services.AddFlakyRunStore<SqliteRunStore>(inner => new FlakyRunStore(inner)
            {
                EventsWriteDelay = TimeSpan.FromMilliseconds(5),
                AfterEvents = entries => entries.Count > 3 && stored.TrySetResult(entries) ? release.Task : Task.CompletedTask,
            });
        });
        var runId = await RunClient.StartInBackgroundAsync(gateway.Client, RunClient.LoremRun(maxTokens: 200));
        var held = await stored.Task.WaitAsync(TimeSpan.FromSeconds(10));

        using var resumed = await RunClient.WatchAsync(gateway.Client, runId, lastEventId: held[1].Id);
        release.SetResult();
        var events = await RunClient.ReadAllAsync(resumed);

        Assert.Equal(HttpStatusCode.OK, resumed.StatusCode);
        Assert.Equal(Enumerable.Range((int)held[1].Id + 1, events.Count).Select(id => (long)id), events.Select(item => item.Id));
        Assert.Equal("run.completed", events[^1].Name);
    }
}
