using Gateway.Tests.Infrastructure;
using Npgsql;

namespace Gateway.Tests.Runs;

/// <summary>
/// A replica id belongs to one live process: a second one is refused. A replica with a configured id (<c>Gateway:Cluster:ReplicaId</c>) that is killed and started again ends the runs it
/// was cut off from at start-up, without waiting for their leases to lapse; a replica with another id leaves them be.
/// </summary>
public sealed class ReplicaRestartTests : IAsyncLifetime
{

    private FakeUpstream _upstream = null!;
    private Dictionary<string, string?> _settings = null!;

    public async Task InitializeAsync()
    {
        _upstream = await FakeUpstream.StartAsync();
        _upstream.DefaultScript = new UpstreamScript { Tokens = ["one ", "two ", "three "], Stall = (1, TimeSpan.FromMinutes(2)) };
        _settings = await ReplicaPair.SettingsAsync(_upstream);
        // Far longer than the test: only the restart can end the run in time.
        _settings["Gateway:Cluster:LeaseSeconds"] = "600";
    }

    public async Task DisposeAsync() => await _upstream.DisposeAsync();

    [Fact]
    public async Task KilledReplicaStartedAgainUnderItsId_InterruptsItsCutOffRunAtStartUp_WhileAnotherReplicaLeftItRunning()
    {
        string runId;
        await using (var first = await ReplicaPair.StartReplicaAsync(_settings, "a"))
        {
            runId = await RunClient.StartInBackgroundAsync(first.Client, ReplicaPair.RelayFlow);
            // Killed once the record shows the llm node under way.
            await ReplicaPair.WaitUntilAsync(async () => (await ReplicaPair.RecordAsync(first, runId))["nodes"]!["talk"]!["status"]!.GetValue<string>() == "running");
            await first.KillAsync();
        }

        await using (var other = await ReplicaPair.StartReplicaAsync(_settings, "b"))
        {
            Assert.Equal("running", (await ReplicaPair.RecordAsync(other, runId))["status"]!.GetValue<string>());
        }

        await using var again = await ReplicaPair.StartReplicaAsync(_settings, "a");
        var record = await ReplicaPair.RecordAsync(again, runId);
        Assert.Equal("interrupted", record["status"]!.GetValue<string>());
        Assert.Equal("cancelled", record["nodes"]!["talk"]!["status"]!.GetValue<string>());
        using var replay = await RunClient.WatchAsync(again.Client, runId);
        var events = await RunClient.ReadAllAsync(replay);
        Assert.Equal("run.failed", events[^1].Name);
        Assert.Equal(ReplicaPair.Ids(events.Count), events.Select(e => e.Id));
    }

    [Fact]
    public async Task ASecondLiveProcessWithTheSameReplicaId_IsRefusedAtStartUp_NamingTheKey()
    {
        await using var first = await ReplicaPair.StartReplicaAsync(_settings, "a");

        var refused = await Assert.ThrowsAsync<InvalidOperationException>(() => ReplicaPair.StartReplicaAsync(_settings, "a"));

        Assert.Contains("Another live replica uses Gateway:Cluster:ReplicaId 'a'", refused.Message, StringComparison.Ordinal);
        // Said once, by the gateway, before its host starts: not also logged by the host with a stack trace.
        Assert.DoesNotContain("Hosting failed to start", refused.Message, StringComparison.Ordinal);
        using var stillServing = await first.Client.GetAsync("/readyz");
        Assert.True(stillServing.IsSuccessStatusCode);
    }

    [Fact]
    public async Task TheLockOnTheId_LostWithItsConnection_IsTakenAgain_SoACopyStartedAfterIsStillRefused()
    {
        // Checked every second.
        _settings["Gateway:Cluster:LeaseSeconds"] = "3";
        await using var first = await ReplicaPair.StartReplicaAsync(_settings, "a");
        await using var admin = new NpgsqlConnection(_settings["Gateway:Storage:ConnectionString"]);
        await admin.OpenAsync();
        Assert.Single(await LockHoldersAsync(admin));

        // What a server restart or failover does to the holder: its session ends, and the lock with it.
        var terminated = (await LockHoldersAsync(admin)).Single();
        await using (var terminate = new NpgsqlCommand("SELECT pg_terminate_backend(@pid);", admin))
        {
            terminate.Parameters.AddWithValue("pid", terminated);
            await terminate.ExecuteNonQueryAsync();
        }

        // Held again, by a new session: the terminated one may linger in pg_locks for a moment.
        await ReplicaPair.WaitUntilAsync(async () => await LockHoldersAsync(admin) is [var holder] && holder != terminated);
        var refused = await Assert.ThrowsAsync<InvalidOperationException>(() => ReplicaPair.StartReplicaAsync(_settings, "a"));
        Assert.Contains("Another live replica uses Gateway:Cluster:ReplicaId 'a'", refused.Message, StringComparison.Ordinal);
        using var stillServing = await first.Client.GetAsync("/readyz");
        Assert.True(stillServing.IsSuccessStatusCode);
    }

    [Fact]
    public async Task TheLockOnTheId_LostAndTakenByAnotherProcessMeanwhile_StopsThisOne_WithAFailingExit()
    {
        // Checked every second.
        _settings["Gateway:Cluster:LeaseSeconds"] = "3";
        await using var first = await ReplicaPair.StartReplicaAsync(_settings, "a");
        await using var admin = new NpgsqlConnection(_settings["Gateway:Storage:ConnectionString"]);
        await admin.OpenAsync();
        var terminated = (await LockHoldersAsync(admin)).Single();
        await using (var terminate = new NpgsqlCommand("SELECT pg_terminate_backend(@pid);", admin))
        {
            terminate.Parameters.AddWithValue("pid", terminated);
            await terminate.ExecuteNonQueryAsync();
        }

        // Another process (this test's session) takes the id before the replica's next check: the terminated session
        // may hold it in pg_locks for a moment.
        await ReplicaPair.WaitUntilAsync(async () =>
        {
            await using var take = new NpgsqlCommand("SELECT pg_try_advisory_lock(1734440037, hashtext('a'));", admin);
            return await take.ExecuteScalarAsync() is true;
        });

        var exitCode = await first.WaitForExitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(1, exitCode);
        Assert.Contains("Another process took replica id a while this one's lock was lost; stopping", first.Output, StringComparison.Ordinal);
        Assert.Equal([admin.ProcessID], await LockHoldersAsync(admin));
    }

    /// <summary>The sessions holding the lock on replica id <c>a</c> in this test's database (the class key <c>ReplicaIdLock</c> takes).</summary>
    private static async Task<List<int>> LockHoldersAsync(NpgsqlConnection admin)
    {
        await using var query = new NpgsqlCommand(
            "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND database = (SELECT oid FROM pg_database WHERE datname = current_database()) " +
            "AND classid = 1734440037::oid AND objid = hashtext('a')::oid AND objsubid = 2 AND granted;", admin);
        var holders = new List<int>();
        await using var reader = await query.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            holders.Add(reader.GetInt32(0));
        }

        return holders;
    }
}
