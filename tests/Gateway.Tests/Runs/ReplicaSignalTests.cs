using System.Net;
using Gateway.Tests.Infrastructure;
using Npgsql;

namespace Gateway.Tests.Runs;

/// <summary>
/// Two gateway processes on one PostgreSQL whose leases, polls and grace are far longer than the tests: only LISTEN/NOTIFY can
/// carry a run's events live to a follower on the other replica, and a cancel to the replica that executes the run.
/// </summary>
public sealed class ReplicaSignalTests : IAsyncLifetime
{
    private static readonly string[] Words = [.. Enumerable.Range(0, 10).Select(i => $"s{i} ")];


    private ReplicaPair _replicas = null!;

    public async Task InitializeAsync() => _replicas = await ReplicaPair.StartAsync(settings =>
    {
        settings["Gateway:Cluster:LeaseSeconds"] = "600";
        settings["Gateway:Cluster:PollMilliseconds"] = "60000";
        // Followers also read the store whenever they tell the executing replica they watch (a third of the grace).
        settings["Gateway:Streaming:DisconnectGraceSeconds"] = "600";
    });

    public async Task DisposeAsync() => await _replicas.DisposeAsync();

    [Fact]
    public async Task AFollowerOnB_GetsARunOfA_TokenByToken_FromNotifications()
    {
        _replicas.Upstream.DefaultScript = new UpstreamScript { Tokens = Words, TokenDelay = TimeSpan.FromMilliseconds(150) };
        var runId = await RunClient.StartInBackgroundAsync(_replicas.A.Client, ReplicaPair.RelayFlow);

        using var watching = await RunClient.WatchAsync(_replicas.B.Client, runId);
        var events = await RunClient.ReadAllAsync(watching).WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(ReplicaPair.Ids(events.Count), events.Select(e => e.Id));
        Assert.Equal("run.completed", events[^1].Name);
        Assert.Equal(string.Concat(Words), RunClient.Tokens(events, "talk"));
    }

    [Fact]
    public async Task CancelSentToB_AbortsTheUpstreamCallOfTheRunExecutingOnA()
    {
        _replicas.Upstream.DefaultScript = new UpstreamScript { Tokens = Words, Stall = (1, TimeSpan.FromMinutes(2)) };
        var runId = await RunClient.StartInBackgroundAsync(_replicas.A.Client, ReplicaPair.RelayFlow);
        await ReplicaPair.WaitUntilAsync(() => _replicas.Upstream.Requests.Count == 1);
        using var watching = await RunClient.WatchAsync(_replicas.B.Client, runId);
        var events = RunClient.ReadAllAsync(watching);

        using var cancel = await _replicas.B.Client.PostAsync($"/api/runs/{runId}/cancel", content: null);

        Assert.Equal(HttpStatusCode.Accepted, cancel.StatusCode);
        Assert.True((await _replicas.Upstream.Requests[0].Closed.WaitAsync(TimeSpan.FromSeconds(10))).Aborted);
        var seen = await events.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal("run.cancelled", seen[^1].Name);
        Assert.Equal(ReplicaPair.Ids(seen.Count), seen.Select(e => e.Id));
        await ReplicaPair.WaitUntilAsync(async () => await ReplicaPair.StatusAsync(_replicas.A, runId) == "cancelled");
        using var again = await _replicas.B.Client.PostAsync($"/api/runs/{runId}/cancel", content: null);
        Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
    }

    [Fact]
    public async Task ListeningConnectionsCut_TheFollowerCatchesUpWhenItsReplicaListensAgain_AndFollowsOnLive()
    {
        _replicas.Upstream.DefaultScript = new UpstreamScript { Tokens = Words, TokenDelay = TimeSpan.FromMilliseconds(200) };
        var runId = await RunClient.StartInBackgroundAsync(_replicas.A.Client, ReplicaPair.RelayFlow);
        using var watching = await RunClient.WatchAsync(_replicas.B.Client, runId);
        var seen = new List<RunEventItem>();
        var reading = Task.Run(async () =>
        {
            await foreach (var item in RunClient.ReadAsync(watching))
            {
                lock (seen)
                {
                    seen.Add(item);
                }
            }
        });
        await ReplicaPair.WaitUntilAsync(() => { lock (seen) { return seen.Count(e => e.Name == "token") >= 2; } });

        // As a failover or an idle-connection reaper would: both replicas' listening connections are cut mid-run.
        await using (var admin = new NpgsqlConnection(_replicas.ConnectionString))
        {
            await admin.OpenAsync();
            await using var cut = new NpgsqlCommand(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'LISTEN %';", admin);
            Assert.Equal(2L, await cut.ExecuteScalarAsync());
        }

        // Polls are a minute apart here: only listening again (and catching up then) can bring the rest in time.
        await reading.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(ReplicaPair.Ids(seen.Count), seen.Select(e => e.Id));
        Assert.Equal("run.completed", seen[^1].Name);
        Assert.Equal(string.Concat(Words), RunClient.Tokens(seen, "talk"));
    }
}
