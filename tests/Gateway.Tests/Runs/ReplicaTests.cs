using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
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
    private const double LeaseSeconds = 2;
    private const string LimitedKey = "gw-test-replica-limited-3e77";
    private const int LimitedRequestsPerMinute = 6;
    private static readonly string[] Words = [.. Enumerable.Range(0, 16).Select(i => $"w{i} ")];

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
        var settings = await ReplicaSettingsAsync(_upstream);
        var replicas = await Task.WhenAll(StartReplicaAsync(settings, "a"), StartReplicaAsync(settings, "b"));
        (_a, _b) = (replicas[0], replicas[1]);
    }

    public async Task DisposeAsync()
    {
        await _a.DisposeAsync();
        await _b.DisposeAsync();
        await _upstream.DisposeAsync();
    }

    [Fact]
    public async Task RunStartedOnA_ResumedOnBWithLastEventId_ArrivesLiveWithNoGapAndNoDuplicate_AndOutlivesAsLeavingWatcher()
    {
        // 16 tokens 200 ms apart: 3.2 s, far longer than the 1 s disconnect grace that A starts when its watcher leaves.
        _upstream.DefaultScript = new UpstreamScript { Tokens = Words, TokenDelay = TimeSpan.FromMilliseconds(200) };
        var firstPart = new List<RunEventItem>();
        string runId;
        using (var started = await _a.Client.SendAsync(RunClient.Request("/api/runs", Flow), HttpCompletionOption.ResponseHeadersRead))
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

        using var resumed = await RunClient.WatchAsync(_b.Client, runId, lastEventId: firstPart[^1].Id);
        Assert.Equal(HttpStatusCode.OK, resumed.StatusCode);
        var secondPart = await RunClient.ReadAllAsync(resumed).WaitAsync(TimeSpan.FromSeconds(30));

        var all = firstPart.Concat(secondPart).ToList();
        Assert.Equal(Enumerable.Range(1, all.Count).Select(id => (long)id), all.Select(e => e.Id));
        Assert.True(secondPart.Count(e => e.Name == "token") >= 10, "B followed the run live, token by token");
        Assert.Equal("run.completed", all[^1].Name);
        Assert.Equal(string.Concat(Words), RunClient.Tokens(all, "talk"));
        Assert.Equal(string.Concat(Words), all[^1].Data["outputs"]!["talk"]!.GetValue<string>());
    }

    [Fact]
    public async Task ReplicaAKilledMidRun_TheRunBecomesInterruptedWithinTheLease_AndBsWatcherGetsTheTerminalEvent()
    {
        _upstream.DefaultScript = new UpstreamScript { Tokens = Words, TokenDelay = TimeSpan.FromMilliseconds(100), Stall = (2, TimeSpan.FromMinutes(2)) };
        var runId = await RunClient.StartInBackgroundAsync(_a.Client, Flow);
        using var watching = await RunClient.WatchAsync(_b.Client, runId);
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
        await WaitUntilAsync(() => { lock (seen) { return seen.Count(e => e.Name == "token") == 2; } });

        var killedAt = Stopwatch.StartNew();
        await _a.KillAsync();
        await reading.WaitAsync(TimeSpan.FromSeconds(30));
        var noticedAfter = killedAt.Elapsed;
        output.WriteLine($"B's watcher got run.failed (interrupted) {noticedAfter.TotalSeconds:F2} s after A was killed (lease {LeaseSeconds} s)");

        // The lease lapses at most LeaseSeconds after the kill; B's next check comes within a third of that.
        Assert.True(noticedAfter < TimeSpan.FromSeconds((LeaseSeconds * 4 / 3) + 3), $"interrupted after {noticedAfter}");
        Assert.Equal("run.failed", seen[^1].Name);
        Assert.Equal("interrupted", seen[^1].Data["status"]!.GetValue<string>());
        Assert.Equal(Enumerable.Range(1, seen.Count).Select(id => (long)id), seen.Select(e => e.Id));

        // The terminal event is logged before the record is saved.
        await WaitUntilAsync(async () => await StatusAsync(_b, runId) == "interrupted");
        using var replay = await RunClient.WatchAsync(_b.Client, runId);
        var replayed = await RunClient.ReadAllAsync(replay).WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(seen.Select(e => (e.Id, e.Name)), replayed.Select(e => (e.Id, e.Name)));
        Assert.Equal("w0 w1 ", RunClient.Tokens(replayed, "talk"));
    }

    [Fact]
    public async Task RequestLimit_OfAKey_HoldsAcrossBothReplicas()
    {
        var statuses = new List<HttpStatusCode>();
        HttpResponseMessage? lastDenied = null;
        for (var i = 0; i < LimitedRequestsPerMinute * 2; i++)
        {
            var replica = i % 2 == 0 ? _a : _b;
            var response = await replica.Client.SendAsync(TestKeys.Request(HttpMethod.Get, "/v1/models", LimitedKey));
            statuses.Add(response.StatusCode);
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
        Assert.Equal(LimitedRequestsPerMinute, statuses.Count(status => status == HttpStatusCode.OK));
        Assert.Equal(LimitedRequestsPerMinute, statuses.Count(status => status == HttpStatusCode.TooManyRequests));
        Assert.All(statuses.Take(LimitedRequestsPerMinute), status => Assert.Equal(HttpStatusCode.OK, status));
        using (lastDenied)
        {
            var retryAfter = int.Parse(lastDenied!.Headers.GetValues("Retry-After").Single(), CultureInfo.InvariantCulture);
            Assert.InRange(retryAfter, 1, 60 / LimitedRequestsPerMinute);
        }
    }

    /// <summary>What both replicas share: the database, the upstream, the keys; a short lease and grace so that tests are quick.</summary>
    internal static async Task<Dictionary<string, string?>> ReplicaSettingsAsync(FakeUpstream upstream)
    {
        var settings = GatewayHost.WithUpstream(GatewayHost.SimulatedSettings(), upstream).WithStandardKeys();
        settings.WithKey(9, "replica-limited", LimitedKey, requestsPerMinute: LimitedRequestsPerMinute);
        settings["Gateway:Storage:Provider"] = "postgres";
        settings["Gateway:Storage:ConnectionString"] = await PostgresServer.CreateDatabaseAsync();
        settings["Gateway:Cluster:LeaseSeconds"] = LeaseSeconds.ToString(CultureInfo.InvariantCulture);
        settings["Gateway:Cluster:PollMilliseconds"] = "500";
        settings["Gateway:Streaming:DisconnectGraceSeconds"] = "1";
        settings["Logging:LogLevel:Default"] = "Warning";
        return settings;
    }

    internal static async Task<GatewayProcess> StartReplicaAsync(Dictionary<string, string?> settings, string replicaId)
    {
        var replica = await GatewayProcess.StartAsync(new Dictionary<string, string?>(settings) { ["Gateway:Cluster:ReplicaId"] = replicaId });
        replica.Client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", TestKeys.Client);
        return replica;
    }

    internal static async Task<string> StatusAsync(GatewayProcess replica, string runId)
    {
        using var response = await replica.Client.GetAsync($"/api/runs/{runId}");
        return JsonNode.Parse(await response.Content.ReadAsStringAsync())!["status"]!.GetValue<string>();
    }

    private static async Task WaitUntilAsync(Func<bool> condition) => await WaitUntilAsync(() => Task.FromResult(condition()));

    internal static async Task WaitUntilAsync(Func<Task<bool>> condition)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (!await condition())
        {
            await Task.Delay(10, timeout.Token);
        }
    }
}
