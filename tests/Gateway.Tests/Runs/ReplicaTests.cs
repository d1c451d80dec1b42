using System.Diagnostics;
using System.Globalization;
using System.Net;
using Gateway.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Gateway.Tests.Runs;

/// <summary>
/// Two gateway processes (replicas A and B) on one real PostgreSQL, as deployed: a run executing on A is watched and
/// resumed through B, survives A's client leaving while B's watches it, and becomes interrupted when A is killed; a
/// key's request limit holds across both. The upstream is a fake OpenAI server in this process.
/// </summary>
public sealed class ReplicaTests(ITestOutputHelper output) : IAsyncLifetime
{
    private static readonly string[] Words = [.. Enumerable.Range(0, 16).Select(i => $"w{i} ")];


    private ReplicaPair _replicas = null!;

    private FakeUpstream Upstream => _replicas.Upstream;

    public async Task InitializeAsync() => _replicas = await ReplicaPair.StartAsync();

    public async Task DisposeAsync() => await _replicas.DisposeAsync();

    [Fact]
    public async Task RunStartedOnA_ResumedOnBWithLastEventId_ArrivesLiveWithNoGapAndNoDuplicate_AndOutlivesAsLeavingWatcher()
    {
        // 16 tokens 200 ms apart: 3.2 s, far longer than the 1 s disconnect grace that A starts when its watcher leaves.
        Upstream.DefaultScript = new UpstreamScript { Tokens = Words, TokenDelay = TimeSpan.FromMilliseconds(200) };
        var firstPart = new List<RunEventItem>();
        string runId;
        using (var started = await _replicas.A.Client.SendAsync(RunClient.Request("/api/runs", ReplicaPair.RelayFlow), HttpCompletionOption.ResponseHeadersRead))
        {
            runId = started.Headers.GetValues("X-Run-Id").Single();
            await foreach (var item in RunClient.ReadAsync(started))
            {
                firstPart.Add(item);
                if (firstPart.Count(e => e.Name == "token") == 3)
                {
                    break;
                }
            }
        }

        using var resumed = await RunClient.WatchAsync(_replicas.B.Client, runId, lastEventId: firstPart[^1].Id);
        Assert.Equal(HttpStatusCode.OK, resumed.StatusCode);
        // B follows the run from the store, which knows no event past the last one sent. (Asked once B's watcher
        // holds the run, so that it does not eat into A's disconnect grace.)
        using (var past = await _replicas.B.Client.GetAsync($"/api/runs/{runId}/events?after=100000"))
        {
            Assert.Equal(HttpStatusCode.BadRequest, past.StatusCode);
        }

        var secondPart = await RunClient.ReadAllAsync(resumed).WaitAsync(TimeSpan.FromSeconds(30));

        var all = firstPart.Concat(secondPart).ToList();
        Assert.Equal(ReplicaPair.Ids(all.Count), all.Select(e => e.Id));
        Assert.True(secondPart.Count(e => e.Name == "token") >= 10, "B followed the run live, token by token");
        Assert.Equal("run.completed", all[^1].Name);
        Assert.Equal(string.Concat(Words), RunClient.Tokens(all, "talk"));
        Assert.Equal(string.Concat(Words), all[^1].Data["outputs"]!["talk"]!.GetValue<string>());
    }

    [Fact]
    public async Task ReplicaAKilledMidRun_TheRunBecomesInterruptedWithinTheLease_AndBsWatcherGetsTheTerminalEvent()
    {
        Upstream.DefaultScript = new UpstreamScript { Tokens = Words, TokenDelay = TimeSpan.FromMilliseconds(100), Stall = (2, TimeSpan.FromMinutes(2)) };
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
        await ReplicaPair.WaitUntilAsync(() => { lock (seen) { return seen.Count(e => e.Name == "token") == 2; } });

        var killedAt = Stopwatch.StartNew();
        await _replicas.A.KillAsync();
        await reading.WaitAsync(TimeSpan.FromSeconds(30));
        var noticedAfter = killedAt.Elapsed;
        output.WriteLine($"B's watcher got run.failed (interrupted) {noticedAfter.TotalSeconds:F2} s after A was killed (lease {ReplicaPair.LeaseSeconds} s)");

        // The lease lapses at most ReplicaPair.LeaseSeconds after the kill; B's next check comes within a third of that.
        Assert.True(noticedAfter < TimeSpan.FromSeconds((ReplicaPair.LeaseSeconds * 4 / 3) + 3), $"interrupted after {noticedAfter}");
        Assert.Equal("run.failed", seen[^1].Name);
        Assert.Equal("interrupted", seen[^1].Data["status"]!.GetValue<string>());
        Assert.Equal(ReplicaPair.Ids(seen.Count), seen.Select(e => e.Id));

        // The terminal event is logged before the record is saved.
        await ReplicaPair.WaitUntilAsync(async () => await ReplicaPair.StatusAsync(_replicas.B, runId) == "interrupted");
        using var replay = await RunClient.WatchAsync(_replicas.B.Client, runId);
        var replayed = await RunClient.ReadAllAsync(replay).WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(seen.Select(e => (e.Id, e.Name)), replayed.Select(e => (e.Id, e.Name)));
        Assert.Equal("w0 w1 ", RunClient.Tokens(replayed, "talk"));
    }

    /// <summary>
    /// A replica that stalls past its lease (a long pause, a frozen VM; SIGSTOP here) has its run claimed and ended
    /// interrupted by the other. Woken, it finds its next event's id taken: until 2026-12-06 (night) it logged that as the
    /// run's crash, an error with a stack trace for every run taken over (found by the race probe).
    /// </summary>
    [Fact]
    public async Task ReplicaAStalledPastItsLease_ItsRunIsEndedByB_AndAWokenLogsATakeOver_NotACrash()
    {
        Upstream.DefaultScript = new UpstreamScript { Tokens = Words, TokenDelay = TimeSpan.FromMilliseconds(400) };
        var runId = await RunClient.StartInBackgroundAsync(_replicas.A.Client, ReplicaPair.RelayFlow);
        await Task.Delay(TimeSpan.FromSeconds(1)); // a few tokens in

        await _replicas.A.SignalAsync("STOP");
        try
        {
            await ReplicaPair.WaitUntilAsync(async () => await ReplicaPair.StatusAsync(_replicas.B, runId) == "interrupted");
        }
        finally
        {
            await _replicas.A.SignalAsync("CONT");
        }

        await ReplicaPair.WaitUntilAsync(() => _replicas.A.Output.Contains($"Run {runId} was taken over by another replica", StringComparison.Ordinal));
        Assert.DoesNotContain("stopped on an error", _replicas.A.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("fail:", _replicas.A.Output, StringComparison.Ordinal);
        Assert.Equal("interrupted", await ReplicaPair.StatusAsync(_replicas.A, runId));
        using var replay = await RunClient.WatchAsync(_replicas.A.Client, runId);
        var events = await RunClient.ReadAllAsync(replay).WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(ReplicaPair.Ids(events.Count), events.Select(e => e.Id));
        Assert.Equal(("run.failed", "interrupted"), (events[^1].Name, events[^1].Data["status"]!.GetValue<string>()));
        // Counted once across the replicas, by B, which ended it (until 2026-12-07 A counted the end it found stored too).
        Assert.Equal(0, await RunsEndedAsync(_replicas.A));
        Assert.Equal(1, await RunsEndedAsync(_replicas.B));
    }

    /// <summary>The runs a replica counted in <c>gateway_runs_total</c>, of every status.</summary>
    private static async Task<double> RunsEndedAsync(GatewayProcess replica) =>
        Exposition.Of(Exposition.Parse(await replica.Client.GetStringAsync("/metrics")), "gateway_runs_total").Values.Sum();

    [Fact]
    public async Task RequestLimit_OfAKey_HoldsAcrossBothReplicas()
    {
        var statuses = new List<HttpStatusCode>();
        var remaining = new List<string>();
        HttpResponseMessage? lastDenied = null;
        for (var i = 0; i < ReplicaPair.LimitedRequestsPerMinute * 2; i++)
        {
            var replica = i % 2 == 0 ? _replicas.A : _replicas.B;
            var response = await replica.Client.SendAsync(
                TestKeys.Request(HttpMethod.Post, "/v1/chat/completions", ReplicaPair.LimitedKey, Json.ChatRequest("echo", "hi", stream: false)));
            statuses.Add(response.StatusCode);
            remaining.Add(response.Headers.GetValues("x-ratelimit-remaining-requests").Single());
            if (response.StatusCode == HttpStatusCode.TooManyRequests)
            {
                lastDenied?.Dispose();
                lastDenied = response;
            }
            else
            {
                response.Dispose();
            }
        }

        // One bucket in PostgreSQL, taken atomically: exactly the limit, whichever replica each request reached.
        Assert.Equal(ReplicaPair.LimitedRequestsPerMinute, statuses.Count(status => status == HttpStatusCode.OK));
        Assert.Equal(ReplicaPair.LimitedRequestsPerMinute, statuses.Count(status => status == HttpStatusCode.TooManyRequests));
        Assert.All(statuses.Take(ReplicaPair.LimitedRequestsPerMinute), status => Assert.Equal(HttpStatusCode.OK, status));
        // Each replica says the shared bucket as its take found it (one refills in 10 s, longer than the test takes).
        Assert.Equal(
            [.. Enumerable.Range(0, ReplicaPair.LimitedRequestsPerMinute).Select(i => $"{ReplicaPair.LimitedRequestsPerMinute - 1 - i}"), .. Enumerable.Repeat("0", ReplicaPair.LimitedRequestsPerMinute)],
            remaining);
        using (lastDenied)
        {
            var retryAfter = int.Parse(lastDenied!.Headers.GetValues("Retry-After").Single(), CultureInfo.InvariantCulture);
            Assert.InRange(retryAfter, 1, 60 / ReplicaPair.LimitedRequestsPerMinute);
        }
    }
}
