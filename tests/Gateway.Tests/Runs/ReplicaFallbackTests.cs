using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using Gateway.Runs;
using Gateway.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.Tests.Runs;

/// <summary>
/// Two replicas on one PostgreSQL whose notifications never arrive (a listening connection that dropped, a pooler
/// that does not pass NOTIFY on): following a run falls back to reading the store every <c>PollMilliseconds</c>, and
/// a cancel reaches the executing replica through the store at its next lease renewal.
/// </summary>
public sealed class ReplicaFallbackTests : IAsyncLifetime
{
    private const double LeaseSeconds = 1.5;
    private static readonly string[] Words = [.. Enumerable.Range(0, 10).Select(i => $"p{i} ")];


    private FakeUpstream _upstream = null!;
    private GatewayHost _a = null!;
    private GatewayHost _b = null!;

    public async Task InitializeAsync()
    {
        _upstream = await FakeUpstream.StartAsync();
        var settings = await ReplicaPair.SettingsAsync(_upstream);
        settings["Gateway:Cluster:LeaseSeconds"] = LeaseSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        settings["Gateway:Cluster:PollMilliseconds"] = "200";
        settings["Gateway:Cluster:ReplicaId"] = "a";
        _a = await GatewayHost.StartAsync(settings, services => services.AddSingleton<IRunSignals, DeafSignals>());
        settings["Gateway:Cluster:ReplicaId"] = "b";
        _b = await GatewayHost.StartAsync(settings, services => services.AddSingleton<IRunSignals, DeafSignals>());
        foreach (var host in new[] { _a, _b })
        {
            host.Client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", TestKeys.Client);
        }
    }

    public async Task DisposeAsync()
    {
        await _a.DisposeAsync();
        await _b.DisposeAsync();
        await _upstream.DisposeAsync();
    }

    [Fact]
    public async Task WithoutNotifications_AFollowerOnBStillGetsEveryEventInOrder_WhileTheRunGoesOn()
    {
        _upstream.DefaultScript = new UpstreamScript { Tokens = Words, TokenDelay = TimeSpan.FromMilliseconds(150) };
        var runId = await RunClient.StartInBackgroundAsync(_a.Client, ReplicaPair.RelayFlow);

        using var watching = await RunClient.WatchAsync(_b.Client, runId);
        var received = new List<(RunEventItem Event, TimeSpan At)>();
        var clock = Stopwatch.StartNew();
        await foreach (var item in RunClient.ReadAsync(watching).WithCancellation(new CancellationTokenSource(TimeSpan.FromSeconds(30)).Token))
        {
            received.Add((item, clock.Elapsed));
        }

        var events = received.Select(e => e.Event).ToList();
        Assert.Equal(ReplicaPair.Ids(events.Count), events.Select(e => e.Id));
        Assert.Equal("run.completed", events[^1].Name);
        Assert.Equal(string.Concat(Words), RunClient.Tokens(events, "talk"));
        // Polled, so in batches, but live: the first tokens came long before the end.
        var firstToken = received.First(e => e.Event.Name == "token").At;
        Assert.True(received[^1].At - firstToken >= TimeSpan.FromMilliseconds(600), $"first token at {firstToken}, end at {received[^1].At}");
    }

    [Fact]
    public async Task WithoutNotifications_ACancelThroughB_ReachesAAtItsNextLeaseRenewal()
    {
        _upstream.DefaultScript = new UpstreamScript { Tokens = Words, Stall = (1, TimeSpan.FromMinutes(2)) };
        var runId = await RunClient.StartInBackgroundAsync(_a.Client, ReplicaPair.RelayFlow);
        await ReplicaPair.WaitUntilAsync(() => _upstream.Requests.Count == 1);

        var clock = Stopwatch.StartNew();
        using var cancel = await _b.Client.PostAsync($"/api/runs/{runId}/cancel", content: null);

        Assert.Equal(HttpStatusCode.Accepted, cancel.StatusCode);
        Assert.True((await _upstream.Requests[0].Closed.WaitAsync(TimeSpan.FromSeconds(10))).Aborted);
        // Renewals come every third of the lease.
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds((LeaseSeconds / 3) + 2), $"cancelled after {clock.Elapsed}");
        using var watching = await RunClient.WatchAsync(_b.Client, runId);
        var events = await RunClient.ReadAllAsync(watching).WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal("run.cancelled", events[^1].Name);
    }


    /// <summary>Sends nothing and hears nothing.</summary>
    private sealed class DeafSignals : IRunSignals
    {
        public event Action<string>? CancelRequested { add { } remove { } }

        public event Action<string>? WatchedElsewhere { add { } remove { } }

        public IDisposable SubscribeToEvents(string runId, Action wake) => new CancellationTokenSource();

        public Task SendCancelAsync(string runId, CancellationToken cancellationToken) => Task.CompletedTask;

        public Task SendWatchedAsync(string runId, CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
