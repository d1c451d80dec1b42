using System.Data.Common;
using System.Text.Json;
using Gateway.Flows;
using Gateway.Runs;
using Gateway.Storage;

namespace Gateway.Tests.Storage;

/// <summary>
/// What every store keeps to, run on each provider by a subclass that hands each test a freshly migrated, empty
/// database: flows, run records, event logs and run leases.
/// </summary>
public abstract class StoreContractTests : IAsyncLifetime
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 1, 12, 0, 0, TimeSpan.Zero);
    private static readonly CancellationToken None = CancellationToken.None;

    private IFlowStore? _flows;
    private IRunStore? _runs;

    private IFlowStore Flows => _flows!;

    private IRunStore Runs => _runs!;

    public async Task InitializeAsync() => (_flows, _runs) = await OpenAsync();

    public abstract Task DisposeAsync();

    /// <summary>The stores over a new, migrated database of this provider.</summary>
    private protected abstract Task<(IFlowStore Flows, IRunStore Runs)> OpenAsync();

    /// <summary>Removes a run's lease behind the store's back, as a run stored before leases existed has none.</summary>
    private protected abstract Task ClearLeaseAsync(string runId);

    [Fact]
    public async Task Flows_CreateReadReplaceListAndDelete()
    {
        Assert.NotNull(await Flows.TryCreateAsync(Flow("b", "first"), None));
        Assert.Null(await Flows.TryCreateAsync(Flow("b", "again"), None));
        Assert.NotNull(await Flows.TryCreateAsync(Flow("a", "other"), None));
        Assert.NotNull(await Flows.TryCreateAsync(Flow("B", "upper"), None));

        Assert.Equal("first", (await Flows.GetAsync("b", None))!.Flow.Name);
        Assert.Equal(FlowChangeOutcome.Done, (await Flows.ReplaceAsync(Flow("b", "second"), null, None)).Outcome);
        Assert.Equal("second", (await Flows.GetAsync("b", None))!.Flow.Name);
        Assert.Equal(FlowChangeOutcome.NotFound, (await Flows.ReplaceAsync(Flow("missing", "x"), null, None)).Outcome);
        Assert.Null(await Flows.GetAsync("missing", None));
        Assert.Equal(["B", "a", "b"], (await Flows.ListAsync(None)).Select(flow => flow.Id));

        Assert.Equal(FlowChangeOutcome.Done, (await Flows.DeleteAsync("b", null, None)).Outcome);
        Assert.Equal(FlowChangeOutcome.NotFound, (await Flows.DeleteAsync("b", null, None)).Outcome);
        Assert.Null(await Flows.GetAsync("b", None));
        Assert.Equal(["B", "a"], (await Flows.ListAsync(None)).Select(flow => flow.Id));
    }

    /// <summary>
    /// A flow's tag is that of what is stored: the same from the write that saved it and from every read, changed by a
    /// replace that changes the flow, and the same again for the same flow saved again.
    /// </summary>
    [Fact]
    public async Task Flows_TagIsTheStoredDocuments_FromTheWriteAndFromEveryRead()
    {
        var created = await Flows.TryCreateAsync(Flow("f", "first"), None);
        Assert.Equal(created, (await Flows.GetAsync("f", None))!.Tag);

        var replaced = await Flows.ReplaceAsync(Flow("f", "second"), null, None);
        Assert.NotEqual(created, replaced.Tag);
        Assert.Equal(replaced.Tag, (await Flows.GetAsync("f", None))!.Tag);

        var back = await Flows.ReplaceAsync(Flow("f", "first"), null, None);
        Assert.Equal(created, back.Tag);
    }

    [Fact]
    public async Task Flows_AConditionalReplaceOrDelete_GoesAheadOnlyIfTheSavedFlowsTagPasses()
    {
        var tag = await Flows.TryCreateAsync(Flow("f", "first"), None);

        var refused = await Flows.ReplaceAsync(Flow("f", "lost"), current => current == "\"other\"", None);
        Assert.Equal(new FlowChange(FlowChangeOutcome.TagDiffers, tag), refused);
        Assert.Equal("first", (await Flows.GetAsync("f", None))!.Flow.Name);

        var replaced = await Flows.ReplaceAsync(Flow("f", "second"), current => current == tag, None);
        Assert.Equal(FlowChangeOutcome.Done, replaced.Outcome);
        Assert.Equal("second", (await Flows.GetAsync("f", None))!.Flow.Name);

        // The tag read before the replace no longer lets anything through.
        Assert.Equal(FlowChangeOutcome.TagDiffers, (await Flows.DeleteAsync("f", current => current == tag, None)).Outcome);
        Assert.Equal(FlowChangeOutcome.Done, (await Flows.DeleteAsync("f", current => current == replaced.Tag, None)).Outcome);
        Assert.Equal(FlowChangeOutcome.NotFound, (await Flows.DeleteAsync("f", _ => true, None)).Outcome);
        Assert.Equal(FlowChangeOutcome.NotFound, (await Flows.ReplaceAsync(Flow("f", "x"), _ => true, None)).Outcome);
    }

    /// <summary>Two writers holding the same tag: exactly one of them changes the flow; the other is told it changed.</summary>
    [Fact]
    public async Task Flows_TwoConditionalReplacesWithTheSameTag_OneWins()
    {
        var tag = await Flows.TryCreateAsync(Flow("f", "first"), None);

        var changes = await Task.WhenAll(
            Enumerable.Range(0, 8).Select(i => Flows.ReplaceAsync(Flow("f", $"edit {i}"), current => current == tag, None)));

        var done = Assert.Single(changes, change => change.Outcome == FlowChangeOutcome.Done);
        Assert.All(changes.Where(change => change != done), change => Assert.Equal(new FlowChange(FlowChangeOutcome.TagDiffers, done.Tag), change));
        Assert.Equal(done.Tag, (await Flows.GetAsync("f", None))!.Tag);
    }

    [Fact]
    public async Task Runs_CreateGetOwnerAndSave()
    {
        var run = Run("r1", "f", T0);
        await Runs.CreateAsync(run, "alice", Lease("A", T0.AddMinutes(1)), None);

        var stored = await Runs.GetAsync("r1", None);
        Assert.Equal(run.RunId, stored!.RunId);
        Assert.Equal(run.FlowId, stored.FlowId);
        Assert.Equal(run.CreatedAt, stored.CreatedAt);
        Assert.Equal(RunStatus.Running, stored.Status);
        Assert.Equal("alice", await Runs.GetOwnerAsync("r1", None));
        Assert.Null(await Runs.GetOwnerAsync("missing", None));
        Assert.Null(await Runs.GetAsync("missing", None));
        var withOwner = await Runs.GetJsonWithOwnerAsync("r1", None);
        Assert.Equal(("r1", "alice"), (JsonSerializer.Deserialize(withOwner!.Value.Record, RunsJsonContext.Default.RunRecord)!.RunId, withOwner.Value.Owner));
        Assert.Null(await Runs.GetJsonWithOwnerAsync("missing", None));

        await Runs.SaveAsync(run with { Status = RunStatus.Completed, Outputs = new Dictionary<string, string> { ["out"] = "done" } }, None);

        stored = await Runs.GetAsync("r1", None);
        Assert.Equal(RunStatus.Completed, stored!.Status);
        Assert.Equal("done", stored.Outputs["out"]);
        Assert.Empty(await Runs.ListByStatusAsync(RunStatus.Running, None));

        // An ended run stays as it ended: a replica that stalled past its lease cannot bring it back to running.
        await Runs.SaveAsync(run with { Status = RunStatus.Running }, None);
        Assert.Equal(RunStatus.Completed, (await Runs.GetAsync("r1", None))!.Status);
    }

    [Fact]
    public async Task List_NewestFirst_ByFlowAndOwner_UpToTheLimit()
    {
        await Runs.CreateAsync(Run("old", "f", T0), "alice", Lease("A", T0), None);
        await Runs.CreateAsync(Run("mid", "g", T0.AddSeconds(1)), "bob", Lease("A", T0), None);
        await Runs.CreateAsync(Run("new", "f", T0.AddSeconds(2)), "bob", Lease("A", T0), None);
        // Same millisecond as "new": the later insert counts as newer.
        await Runs.CreateAsync(Run("newest", "f", T0.AddSeconds(2)), "alice", Lease("A", T0), None);

        Assert.Equal(["newest", "new", "mid", "old"], await ListIdsAsync(null, null, 10));
        Assert.Equal(["newest", "new"], await ListIdsAsync(null, null, 2));
        Assert.Equal(["newest", "new", "old"], await ListIdsAsync("f", null, 10));
        Assert.Equal(["new", "mid"], await ListIdsAsync(null, "bob", 10));
        Assert.Equal(["newest", "old"], await ListIdsAsync("f", "alice", 10));
        Assert.Empty(await ListIdsAsync("none", null, 10));
    }

    [Fact]
    public async Task VisitCreatedBetween_IsHalfOpen_OldestFirst_WithOwners()
    {
        await Runs.CreateAsync(Run("before", "f", T0.AddSeconds(-1)), "alice", Lease("A", T0), None);
        await Runs.CreateAsync(Run("first", "f", T0), "alice", Lease("A", T0), None);
        await Runs.CreateAsync(Run("second", "f", T0.AddMinutes(1)), "bob", Lease("A", T0), None);
        await Runs.CreateAsync(Run("at-end", "f", T0.AddHours(1)), "bob", Lease("A", T0), None);

        var all = new List<(string, string?)>();
        await Runs.VisitCreatedBetweenAsync(T0, T0.AddHours(1), null, (run, owner) => all.Add((run.RunId, owner)), None);
        Assert.Equal([("first", "alice"), ("second", "bob")], all);

        var bobs = new List<string>();
        await Runs.VisitCreatedBetweenAsync(T0, T0.AddHours(2), "bob", (run, _) => bobs.Add(run.RunId), None);
        Assert.Equal(["second", "at-end"], bobs);
    }

    [Fact]
    public async Task ListByStatus_OldestFirst()
    {
        await Runs.CreateAsync(Run("later", "f", T0.AddSeconds(5)), "alice", Lease("A", T0), None);
        await Runs.CreateAsync(Run("earlier", "f", T0), "alice", Lease("A", T0), None);
        var done = Run("done", "f", T0.AddSeconds(1));
        await Runs.CreateAsync(done, "alice", Lease("A", T0), None);
        await Runs.SaveAsync(done with { Status = RunStatus.Failed }, None);

        Assert.Equal(["earlier", "later"], (await Runs.ListByStatusAsync(RunStatus.Running, None)).Select(run => run.RunId));
        Assert.Equal(["done"], (await Runs.ListByStatusAsync(RunStatus.Failed, None)).Select(run => run.RunId));
        Assert.Empty(await Runs.ListByStatusAsync(RunStatus.Cancelled, None));
    }

    [Fact]
    public async Task DeleteEndedBefore_TakesEndedRunsStartedBeforeTheCutoff_OldestFirst_WithTheirEvents()
    {
        // Three ended before the cutoff, in every ending state; one running as long; one ended just at the cutoff.
        await EndedAsync("completed", T0.AddDays(-3), RunStatus.Completed);
        await EndedAsync("failed", T0.AddDays(-2), RunStatus.Failed);
        await EndedAsync("interrupted", T0.AddDays(-1), RunStatus.Interrupted);
        await Runs.CreateAsync(Run("running", "f", T0.AddDays(-4)), "alice", Lease("A", T0), None);
        await Runs.AppendEventsAsync("running", [new RunEventEntry(1, "run.started", "{}")], null, None);
        await EndedAsync("at-cutoff", T0, RunStatus.Cancelled);

        Assert.Equal(2, await Runs.DeleteEndedBeforeAsync(T0, 2, None));
        Assert.Null(await Runs.GetAsync("completed", None));
        Assert.Null(await Runs.GetAsync("failed", None));
        Assert.Empty(await Runs.GetEventsAsync("completed", 0, None));
        Assert.Empty(await Runs.GetEventsAsync("failed", 0, None));
        Assert.NotNull(await Runs.GetAsync("interrupted", None));

        Assert.Equal(1, await Runs.DeleteEndedBeforeAsync(T0, 2, None));
        Assert.Equal(0, await Runs.DeleteEndedBeforeAsync(T0, 2, None));

        Assert.Equal(["at-cutoff", "running"], await ListIdsAsync(null, null, 10));
        Assert.Equal(["run.started"], (await Runs.GetEventsAsync("running", 0, None)).Select(entry => entry.Name));
        Assert.Equal(["run.started", "run.cancelled"], (await Runs.GetEventsAsync("at-cutoff", 0, None)).Select(entry => entry.Name));
    }

    [Fact]
    public async Task Events_ReadBackInOrderAfterAnId_AndADuplicateIdIsRejected()
    {
        await Runs.CreateAsync(Run("r1", "f", T0), "alice", Lease("A", T0), None);
        await Runs.CreateAsync(Run("r2", "f", T0), "alice", Lease("A", T0), None);
        foreach (var id in new long[] { 2, 1, 3 })
        {
            await Runs.AppendEventsAsync("r1", [new RunEventEntry(id, "token", $$"""{"text":"{{id}}"}""")], null, None);
        }

        await Runs.AppendEventsAsync("r2", [new RunEventEntry(1, "run.started", "{}")], null, None);

        Assert.Equal([1L, 2L, 3L], (await Runs.GetEventsAsync("r1", 0, None)).Select(entry => entry.Id));
        Assert.Equal([new RunEventEntry(3, "token", """{"text":"3"}""")], await Runs.GetEventsAsync("r1", 2, None));
        Assert.Empty(await Runs.GetEventsAsync("r1", 3, None));
        Assert.Empty(await Runs.GetEventsAsync("missing", 0, None));
        Assert.True(await Runs.HasEventAsync("r1", 3, None));
        Assert.False(await Runs.HasEventAsync("r1", 4, None));
        Assert.False(await Runs.HasEventAsync("missing", 1, None));

        var duplicate = await Assert.ThrowsAnyAsync<DbException>(() => Runs.AppendEventsAsync("r1", [new RunEventEntry(2, "token", "{}")], null, None));
        Assert.True(StoreErrors.IsDuplicateKey(duplicate), $"not recognised as a duplicate key: {duplicate.GetType().Name} {duplicate.SqlState} {duplicate.ErrorCode}");
        Assert.Equal("""{"text":"2"}""", (await Runs.GetEventsAsync("r1", 1, None))[0].Data);
    }

    /// <summary>A burst of events and the record saved with them are one write: all of it, or (an id taken) none of it.</summary>
    [Fact]
    public async Task EventsWithARecord_AreStoredTogether_OrNoneWhenAnIdIsTaken()
    {
        await Runs.CreateAsync(Run("r1", "f", T0), "alice", Lease("A", T0), None);
        await Runs.AppendEventsAsync("r1", [new RunEventEntry(1, "run.started", "{}")], null, None);
        var saved = Run("r1", "f", T0) with { Outputs = new Dictionary<string, string> { ["a"] = "one" } };

        await Runs.AppendEventsAsync("r1", [new RunEventEntry(2, "node.started", "{}"), new RunEventEntry(3, "node.completed", "{}")], saved, None);
        await Assert.ThrowsAnyAsync<DbException>(() => Runs.AppendEventsAsync(
            "r1", [new RunEventEntry(4, "node.started", "{}"), new RunEventEntry(3, "node.failed", "{}")], saved with { Outputs = new Dictionary<string, string>() }, None));

        Assert.Equal(["run.started", "node.started", "node.completed"], (await Runs.GetEventsAsync("r1", 0, None)).Select(entry => entry.Name));
        var stored = (await Runs.GetAsync("r1", None))!;
        Assert.Equal((RunStatus.Running, "one"), (stored.Status, stored.Outputs["a"]));
    }

    /// <summary>
    /// The largest burst a run writes (<see cref="RunCoordinator.MostEventsPerWrite"/> events, some of them long
    /// tokens) with a large record, read back as written; a burst as large with one id taken in its middle writes none
    /// of its events and leaves the record as it was.
    /// </summary>
    [Fact]
    public async Task AFullBurstWithALargeRecord_ReadsBackAsWritten_AndOneWithATakenIdInItsMiddle_WritesNothing()
    {
        await Runs.CreateAsync(Run("big", "f", T0), "alice", Lease("A", T0), None);
        var burst = Enumerable.Range(1, RunCoordinator.MostEventsPerWrite)
            .Select(id => new RunEventEntry(id, "token", $$"""{"text":"{{new string((char)('a' + id % 26), id % 8 == 0 ? 300_000 : id)}}"}"""))
            .ToList();
        var large = Run("big", "f", T0) with { Outputs = new Dictionary<string, string> { ["out"] = new string('z', 4_000_000) } };

        await Runs.AppendEventsAsync("big", burst, large, None);
        var second = Enumerable.Range(burst.Count + 1, RunCoordinator.MostEventsPerWrite)
            .Select(id => new RunEventEntry(id == burst.Count + 40 ? 10 : id, "token", "{}"))
            .ToList();
        await Assert.ThrowsAnyAsync<DbException>(() => Runs.AppendEventsAsync("big", second, Run("big", "f", T0), None));

        Assert.Equal(burst, await Runs.GetEventsAsync("big", 0, None));
        Assert.Equal(4_000_000, (await Runs.GetAsync("big", None))!.Outputs["out"].Length);
    }

    [Fact]
    public async Task Finish_StoresTheTerminalEventAndTheFinalRecordTogether_OrNeitherWhenTheIdIsTaken()
    {
        await Runs.CreateAsync(Run("done", "f", T0), "alice", Lease("A", T0), None);
        await Runs.CreateAsync(Run("raced", "f", T0), "alice", Lease("A", T0), None);
        await Runs.AppendEventsAsync("raced", [new RunEventEntry(1, "run.started", "{}")], null, None);

        await Runs.FinishAsync(Run("done", "f", T0) with { Status = RunStatus.Completed }, new RunEventEntry(1, "run.completed", "{}"), None);
        await Assert.ThrowsAnyAsync<DbException>(
            () => Runs.FinishAsync(Run("raced", "f", T0) with { Status = RunStatus.Interrupted }, new RunEventEntry(1, "run.failed", "{}"), None));

        Assert.Equal(RunStatus.Completed, (await Runs.GetAsync("done", None))!.Status);
        Assert.Equal("run.completed", Assert.Single(await Runs.GetEventsAsync("done", 0, None)).Name);
        Assert.Equal(RunStatus.Running, (await Runs.GetAsync("raced", None))!.Status);
        Assert.Equal("run.started", Assert.Single(await Runs.GetEventsAsync("raced", 0, None)).Name);
    }

    [Fact]
    public async Task RenewLeases_ExtendsOnlyThisReplicasRunningRuns_AndReportsCancelRequests()
    {
        await Runs.CreateAsync(Run("a1", "f", T0), "alice", Lease("A", T0.AddSeconds(10)), None);
        await Runs.CreateAsync(Run("a2", "f", T0), "alice", Lease("A", T0.AddSeconds(10)), None);
        var finished = Run("a3", "f", T0);
        await Runs.CreateAsync(finished, "alice", Lease("A", T0.AddSeconds(10)), None);
        await Runs.SaveAsync(finished with { Status = RunStatus.Completed }, None);
        await Runs.CreateAsync(Run("b1", "f", T0), "alice", Lease("B", T0.AddSeconds(10)), None);
        Assert.True(await Runs.RequestCancelAsync("a2", None));
        Assert.True(await Runs.RequestCancelAsync("b1", None));

        Assert.Equal(["a2"], await Runs.RenewLeasesAsync("A", null, T0.AddMinutes(5), None));

        // At T0 + 1 min only B's lease has lapsed: A's running runs were renewed, its finished one is not running.
        var claimed = await Runs.ClaimLapsedAsync(Lease("C", T0.AddMinutes(2)), T0.AddMinutes(1), None);
        Assert.Equal(["b1"], claimed.Select(run => run.RunId));
        Assert.Empty(await Runs.RenewLeasesAsync("B", null, T0.AddMinutes(5), None));
        Assert.Equal(["b1"], await Runs.RenewLeasesAsync("C", null, T0.AddMinutes(5), None));
    }

    [Fact]
    public async Task RenewLeases_OfNamedRuns_LeavesTheReplicasOtherRunsToLapse()
    {
        await Runs.CreateAsync(Run("live", "f", T0), "alice", Lease("A", T0.AddSeconds(10)), None);
        await Runs.CreateAsync(Run("orphan", "f", T0), "alice", Lease("A", T0.AddSeconds(10)), None);
        Assert.True(await Runs.RequestCancelAsync("orphan", None));

        // The cancel request of a run not renewed is not reported: no task here runs it.
        Assert.Empty(await Runs.RenewLeasesAsync("A", ["live"], T0.AddMinutes(5), None));
        Assert.Empty(await Runs.RenewLeasesAsync("A", [], T0.AddMinutes(5), None));

        var claimed = await Runs.ClaimLapsedAsync(Lease("A", T0.AddMinutes(2)), T0.AddMinutes(1), None);
        Assert.Equal(["orphan"], claimed.Select(run => run.RunId));
    }

    [Fact]
    public async Task RequestCancel_OnlyForARunningRun()
    {
        await Runs.CreateAsync(Run("running", "f", T0), "alice", Lease("A", T0), None);
        var finished = Run("finished", "f", T0);
        await Runs.CreateAsync(finished, "alice", Lease("A", T0), None);
        await Runs.SaveAsync(finished with { Status = RunStatus.Cancelled }, None);

        Assert.True(await Runs.RequestCancelAsync("running", None));
        Assert.False(await Runs.RequestCancelAsync("finished", None));
        Assert.False(await Runs.RequestCancelAsync("missing", None));
    }

    [Fact]
    public async Task ClaimLapsed_TakesOnlyRunningRunsWhoseLeaseLapsedOrIsMissing_Once()
    {
        await Runs.CreateAsync(Run("lapsed", "f", T0), "alice", Lease("A", T0.AddSeconds(5)), None);
        await Runs.CreateAsync(Run("live", "f", T0), "alice", Lease("A", T0.AddSeconds(30)), None);
        await Runs.CreateAsync(Run("no-lease", "f", T0), "alice", Lease("A", T0.AddSeconds(30)), None);
        await ClearLeaseAsync("no-lease");
        var ended = Run("ended", "f", T0);
        await Runs.CreateAsync(ended, "alice", Lease("A", T0), None);
        await Runs.SaveAsync(ended with { Status = RunStatus.Completed }, None);

        var claimed = await Runs.ClaimLapsedAsync(Lease("B", T0.AddSeconds(40)), T0.AddSeconds(10), None);

        Assert.Equal(["lapsed", "no-lease"], claimed.Select(run => run.RunId).Order(StringComparer.Ordinal));
        Assert.Empty(await Runs.ClaimLapsedAsync(Lease("C", T0.AddSeconds(40)), T0.AddSeconds(10), None));
        Assert.Equal(["live"], (await Runs.ClaimLapsedAsync(Lease("C", T0.AddSeconds(90)), T0.AddSeconds(35), None)).Select(run => run.RunId));
    }

    [Fact]
    public async Task ClaimLapsed_ByManyReplicasAtOnce_HandsEachRunToExactlyOne()
    {
        var ids = Enumerable.Range(0, 50).Select(i => $"run-{i:D2}").ToArray();
        foreach (var id in ids)
        {
            await Runs.CreateAsync(Run(id, "f", T0), "alice", Lease("dead", T0.AddSeconds(1)), None);
        }

        using var start = new Barrier(8);
        var claims = await Task.WhenAll(Enumerable.Range(0, 8).Select(replica => Task.Run(async () =>
        {
            start.SignalAndWait(TimeSpan.FromSeconds(30));
            var claimed = new List<string>();
            // Several rounds each, so claimers overlap however the threads are scheduled.
            for (var round = 0; round < 5; round++)
            {
                var runs = await Runs.ClaimLapsedAsync(Lease($"r{replica}", T0.AddMinutes(10)), T0.AddMinutes(1), None);
                claimed.AddRange(runs.Select(run => run.RunId));
            }

            return claimed;
        })));

        Assert.Equal(ids, claims.SelectMany(claimed => claimed).Order(StringComparer.Ordinal));
    }

    private async Task<string[]> ListIdsAsync(string? flowId, string? owner, int limit) =>
        [.. await Runs.ListIdsAsync(flowId, owner, limit, None)];

    private static RunLease Lease(string replica, DateTimeOffset expiresAt) => new(replica, expiresAt);

    /// <summary>A run that started at <paramref name="createdAt"/> and ended <paramref name="status"/>, with its two events.</summary>
    private async Task EndedAsync(string id, DateTimeOffset createdAt, string status)
    {
        await Runs.CreateAsync(Run(id, "f", createdAt), "alice", Lease("A", T0), None);
        await Runs.AppendEventsAsync(id, [new RunEventEntry(1, "run.started", "{}")], null, None);
        await Runs.FinishAsync(Run(id, "f", createdAt) with { Status = status }, new RunEventEntry(2, $"run.{status}", "{}"), None);
    }

    private static Flow Flow(string id, string name) => new()
    {
        Id = id,
        Name = name,
        Nodes = [new FlowNode { Id = "in", Type = "input" }],
    };

    private static RunRecord Run(string id, string flowId, DateTimeOffset createdAt) => new()
    {
        RunId = id,
        FlowId = flowId,
        Status = RunStatus.Running,
        CreatedAt = createdAt,
        Outputs = new Dictionary<string, string>(),
        Nodes = new Dictionary<string, NodeRecord>(),
        Usage = TokenUsage.Zero,
    };
}
