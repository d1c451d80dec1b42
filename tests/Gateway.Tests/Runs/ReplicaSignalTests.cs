using System.Net;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Runs;

/// <summary>
/// Two gateway processes on one PostgreSQL whose leases and polls are far longer than the tests: only LISTEN/NOTIFY can
/// carry a run's events live to a follower on the other replica, and a cancel to the replica that executes the run.
/// </summary>
public sealed class ReplicaSignalTests : IAsyncLifetime
{
    private static readonly string[] Words = [.. Enumerable.Range(0, 10).Select(i => $"s{i} ")];

    private static readonly string Flow = """
        {"flow":{"id":"relay","nodes":[{"id":"in","type":"input"},{"id":"talk","type":"llm","model":"up","prompt":"in"},
          {"id":"out","type":"output","from":["talk"]}]},"input":"anything"}
        """;

    private FakeUpstream _upstream = null!;
    private GatewayProcess _a = null!;
    private GatewayProcess _b = null!;

    public async Task InitializeAsync()
    {
        _upstream = await FakeUpstream.StartAsync();
        var settings = await ReplicaTests.ReplicaSettingsAsync(_upstream);
        settings["Gateway:Cluster:LeaseSeconds"] = "600";
        settings["Gateway:Cluster:PollMilliseconds"] = "60000";
        var replicas = await Task.WhenAll(ReplicaTests.StartReplicaAsync(settings, "a"), ReplicaTests.StartReplicaAsync(settings, "b"));
        (_a, _b) = (replicas[0], replicas[1]);
    }

    public async Task DisposeAsync()
    {
        await _a.DisposeAsync();
        await _b.DisposeAsync();
        await _upstream.DisposeAsync();
    }

    [Fact]
    public async Task AFollowerOnB_GetsARunOfA_TokenByToken_FromNotifications()
    {
        _upstream.DefaultScript = new UpstreamScript { Tokens = Words, TokenDelay = TimeSpan.FromMilliseconds(150) };
        var runId = await RunClient.StartInBackgroundAsync(_a.Client, Flow);

        using var watching = await RunClient.WatchAsync(_b.Client, runId);
        var events = await RunClient.ReadAllAsync(watching).WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(Enumerable.Range(1, events.Count).Select(id => (long)id), events.Select(e => e.Id));
        Assert.Equal("run.completed", events[^1].Name);
        Assert.Equal(string.Concat(Words), RunClient.Tokens(events, "talk"));
    }

    [Fact]
    public async Task CancelSentToB_AbortsTheUpstreamCallOfTheRunExecutingOnA()
    {
        _upstream.DefaultScript = new UpstreamScript { Tokens = Words, Stall = (1, TimeSpan.FromMinutes(2)) };
        var runId = await RunClient.StartInBackgroundAsync(_a.Client, Flow);
        await ReplicaTests.WaitUntilAsync(() => Task.FromResult(_upstream.Requests.Count == 1));
        using var watching = await RunClient.WatchAsync(_b.Client, runId);
        var events = RunClient.ReadAllAsync(watching);

        using var cancel = await _b.Client.PostAsync($"/api/runs/{runId}/cancel", content: null);

        Assert.Equal(HttpStatusCode.Accepted, cancel.StatusCode);
        Assert.True((await _upstream.Requests[0].Closed.WaitAsync(TimeSpan.FromSeconds(10))).Aborted);
        var seen = await events.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal("run.cancelled", seen[^1].Name);
        Assert.Equal(Enumerable.Range(1, seen.Count).Select(id => (long)id), seen.Select(e => e.Id));
        await ReplicaTests.WaitUntilAsync(async () => await ReplicaTests.StatusAsync(_a, runId) == "cancelled");
        using var again = await _b.Client.PostAsync($"/api/runs/{runId}/cancel", content: null);
        Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
    }
}
