using Gateway.Runs;
using Gateway.Storage;
using Gateway.Tests.Infrastructure;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Gateway.Tests.Runs;

/// <summary>How a run cut off with its replica is ended from the store: its nodes as its log shows them.</summary>
public sealed class RunEnderTests : IAsyncLifetime
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 7, 3, 0, 0, TimeSpan.Zero);
    private static readonly CancellationToken None = CancellationToken.None;

    private readonly string _path = GatewayHost.NewDatabasePath();
    private SqliteDatabase _database = null!;
    private SqliteRunStore _store = null!;

    public async Task InitializeAsync()
    {
        _database = new SqliteDatabase(Options.Create(new StorageOptions { ConnectionString = GatewayHost.ConnectionString(_path) }));
        await new SqliteSchema(_database).MigrateAsync(None);
        _store = new SqliteRunStore(_database);
    }

    public Task DisposeAsync()
    {
        _database.Dispose(); // again, for a test that handed the file to a gateway
        SqliteConnection.ClearAllPools();
        GatewayHost.DeleteDatabase(_path);
        return Task.CompletedTask;
    }

    /// <summary>
    /// The record saved with a burst is the run's state as the write was made: node <c>fast</c> had finished, its end
    /// and its last tokens still queued, when the process went. Until 2026-12-07 the run ended with <c>fast</c>
    /// <c>completed</c>, its whole output in the record and among the outputs, where its watchers had two of its tokens
    /// and no end; now it ends as they saw it, cut off. A node whose end is in the log keeps it.
    /// </summary>
    [Fact]
    public async Task ANodeTheRecordHadFinished_WithNoEndInTheLog_EndsCancelled_WithoutItsOutput_SpendingWhatItSpent()
    {
        var spent = new TokenUsage(12, 40);
        var saved = Run(new Dictionary<string, NodeRecord>
        {
            ["fast"] = new() { Status = NodeStatus.Completed, Output = "one two three", FinishReason = "stop", Usage = spent, StartedAt = T0, CompletedAt = T0 },
            ["done"] = new() { Status = NodeStatus.Completed, Output = "logged", FinishReason = "stop", Usage = new TokenUsage(1, 1), StartedAt = T0, CompletedAt = T0 },
            ["slow"] = new() { Status = NodeStatus.Running, Usage = new TokenUsage(5, 0), StartedAt = T0 },
            ["after"] = new() { Status = NodeStatus.Pending },
            ["broke"] = new() { Status = NodeStatus.Failed, Error = new NodeError("upstream_error", "It broke."), StartedAt = T0, CompletedAt = T0 },
            ["broken"] = new() { Status = NodeStatus.Failed, Error = new NodeError("upstream_error", "It broke too."), StartedAt = T0, CompletedAt = T0 },
        }) with
        {
            Outputs = new Dictionary<string, string> { ["fast"] = "one two three", ["done"] = "logged" },
        };
        var ended = await EndCutOffAsync(
            saved,
            [
                Entry(1, "run.started", """{"runId":"r","flowId":"f"}"""),
                Entry(2, "node.started", """{"node":"fast","type":"llm"}"""),
                Entry(3, "node.started", """{"node":"done","type":"llm"}"""),
                Entry(4, "node.started", """{"node":"slow","type":"llm"}"""),
                Entry(5, "token", """{"node":"fast","text":"one"}"""),
                Entry(6, "token", """{"node":"slow","text":"a"}"""),
                Entry(7, "token", """{"node":"fast","text":" two"}"""),
                Entry(8, "node.completed", """{"node":"done","output":"logged"}"""),
                Entry(9, "node.started", """{"node":"broke","type":"llm"}"""),
                Entry(10, "node.failed", """{"node":"broke","error":{"code":"upstream_error","message":"It broke."}}"""),
                Entry(11, "node.started", """{"node":"broken","type":"llm"}"""),
            ]);

        Assert.Equal(RunStatus.Interrupted, ended.Status);
        var fast = ended.Nodes["fast"];
        Assert.Equal((NodeStatus.Cancelled, null, null, spent), (fast.Status, fast.Output, fast.FinishReason, fast.Usage));
        Assert.Equal((NodeStatus.Completed, "logged"), (ended.Nodes["done"].Status, ended.Nodes["done"].Output));
        Assert.Equal((NodeStatus.Cancelled, new TokenUsage(5, 1)), (ended.Nodes["slow"].Status, ended.Nodes["slow"].Usage));
        Assert.Equal(NodeStatus.Skipped, ended.Nodes["after"].Status);
        Assert.Equal((NodeStatus.Failed, "It broke."), (ended.Nodes["broke"].Status, ended.Nodes["broke"].Error?.Message));
        Assert.Equal((NodeStatus.Cancelled, null), (ended.Nodes["broken"].Status, ended.Nodes["broken"].Error));
        Assert.Equal(["done"], ended.Outputs.Keys);
        Assert.Equal(new TokenUsage(18, 42), ended.Usage);
        var terminal = (await _store.GetEventsAsync("r", 11, None)).Single();
        Assert.Equal("run.failed", terminal.Name);
        Assert.Equal(RunEventJson.Serialize(new RunFinishedEvent(ended)), terminal.Data);
        Assert.Equal(RunEventJson.Serialize(new RunFinishedEvent(ended)), RunEventJson.Serialize(new RunFinishedEvent((await _store.GetAsync("r", None))!)));
    }

    /// <summary>
    /// A run whose every node's end is in its log lost only its own end with its process: it ends <c>completed</c>, with
    /// its outputs. Until 2026-12-07 it ended <c>interrupted</c> (a probe: 42 of 42 nodes completed).
    /// </summary>
    [Fact]
    public async Task ARunWhoseEveryNodesEndIsInTheLog_EndsCompleted_WithItsOutputs()
    {
        var saved = Run(new Dictionary<string, NodeRecord>
        {
            ["in"] = new() { Status = NodeStatus.Completed, Output = "hi", StartedAt = T0, CompletedAt = T0 },
            ["talk"] = new() { Status = NodeStatus.Completed, Output = "hi there", FinishReason = "stop", Usage = new TokenUsage(2, 2), StartedAt = T0, CompletedAt = T0 },
        }) with
        {
            Outputs = new Dictionary<string, string> { ["talk"] = "hi there" },
            Usage = new TokenUsage(2, 2),
        };
        var ended = await EndCutOffAsync(
            saved,
            [
                Entry(1, "run.started", """{"runId":"r","flowId":"f"}"""),
                Entry(2, "node.started", """{"node":"in","type":"input"}"""),
                Entry(3, "node.completed", """{"node":"in","output":"hi"}"""),
                Entry(4, "node.started", """{"node":"talk","type":"llm"}"""),
                Entry(5, "token", """{"node":"talk","text":"hi there"}"""),
                Entry(6, "node.completed", """{"node":"talk","output":"hi there"}"""),
            ]);

        Assert.Equal((RunStatus.Completed, null), (ended.Status, ended.Error));
        Assert.Equal("hi there", ended.Outputs["talk"]);
        Assert.Equal(new TokenUsage(2, 2), ended.Usage);
        Assert.Equal("run.completed", (await _store.GetEventsAsync("r", 6, None)).Single().Name);
        Assert.Equal(RunStatus.Completed, (await _store.GetAsync("r", None))!.Status);
    }

    /// <summary>
    /// A run the ender cannot end (an event stored in a shape this build cannot read) is left to lapse again: until
    /// 2026-12-07 its exception ended the start-up, and the other lapsed runs stayed unended.
    /// </summary>
    [Fact]
    public async Task ARunThatCannotBeEnded_NeitherStopsTheStart_NorKeepsTheOthersRunning()
    {
        foreach (var id in new[] { "bad", "good" })
        {
            var running = Run(new() { ["x"] = new() { Status = NodeStatus.Running, StartedAt = T0 } }) with { RunId = id };
            await _store.CreateAsync(running, "alice", new RunLease("gone", T0), None);
            await _store.AppendEventsAsync(id, [Entry(1, "run.started", "{}"), Entry(2, "token", id == "bad" ? "{not json" : """{"node":"x","text":"a"}""")], null, None);
        }

        _database.Dispose();
        var settings = GatewayHost.SimulatedSettings();
        settings[GatewayHost.StorageKey] = GatewayHost.ConnectionString(_path);
        await using (var gateway = await GatewayHost.StartAsync(settings))
        {
            using var good = await gateway.Client.GetAsync("/api/runs/good");
            using var bad = await gateway.Client.GetAsync("/api/runs/bad");

            Assert.Equal(RunStatus.Interrupted, (await Json.ReadAsync(good))["status"]!.GetValue<string>());
            Assert.Equal(RunStatus.Running, (await Json.ReadAsync(bad))["status"]!.GetValue<string>());
        }
    }

    /// <summary>
    /// Stores run <c>r</c> as its process left it, its record as last saved with its log, and ends it as the replica that
    /// claims it does.
    /// </summary>
    private async Task<RunRecord> EndCutOffAsync(RunRecord saved, IReadOnlyList<RunEventEntry> log)
    {
        await _store.CreateAsync(Run([]), "alice", new RunLease("gone", T0), None);
        await _store.AppendEventsAsync("r", log, saved, None);
        return await new RunEnder(_store, TimeProvider.System, NullLogger<RunEnder>.Instance).EndAsync(saved, RunEnder.ReplicaStopped, None);
    }

    private static RunEventEntry Entry(long id, string name, string data) => new(id, name, data);

    private static RunRecord Run(Dictionary<string, NodeRecord> nodes) => new()
    {
        RunId = "r",
        FlowId = "f",
        Status = RunStatus.Running,
        CreatedAt = T0,
        Outputs = new Dictionary<string, string>(),
        Nodes = nodes,
        Usage = TokenUsage.Zero,
    };
}
