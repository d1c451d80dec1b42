using System.Diagnostics;
using System.Net;
using System.Text.Json.Nodes;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Runs;

/// <summary>
/// deploy/replicas/nginx.conf, the real nginx, in front of two gateway processes on one PostgreSQL: streams go
/// through token by token, a dropped run stream resumes through nginx whichever replica serves each request, and
/// when a replica dies nginx sends new requests to the other.
/// </summary>
public sealed class ReplicasBehindNginxTests : IAsyncLifetime
{
    private static readonly string[] Words = [.. Enumerable.Range(0, 12).Select(i => $"n{i} ")];

    private static readonly string Flow = """
        {"flow":{"id":"relay","nodes":[{"id":"in","type":"input"},{"id":"talk","type":"llm","model":"up","prompt":"in"},
          {"id":"out","type":"output","from":["talk"]}]},"input":"anything"}
        """;

    private FakeUpstream _upstream = null!;
    private GatewayProcess _a = null!;
    private GatewayProcess _b = null!;
    private NginxProxy _nginx = null!;
    private HttpClient _client = null!;

    public async Task InitializeAsync()
    {
        _upstream = await FakeUpstream.StartAsync();
        var settings = await ReplicaTests.ReplicaSettingsAsync(_upstream);
        var replicas = await Task.WhenAll(ReplicaTests.StartReplicaAsync(settings, "a"), ReplicaTests.StartReplicaAsync(settings, "b"));
        (_a, _b) = (replicas[0], replicas[1]);
        _nginx = await NginxProxy.StartAsync(port => NginxProxy.ReplicasConfig([_a.BaseAddress, _b.BaseAddress], port));
        _client = new HttpClient(new SocketsHttpHandler { MaxResponseDrainSize = 0 }) { BaseAddress = _nginx.BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
        _client.DefaultRequestHeaders.Authorization = _a.Client.DefaultRequestHeaders.Authorization;
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _nginx.DisposeAsync();
        await _a.DisposeAsync();
        await _b.DisposeAsync();
        await _upstream.DisposeAsync();
    }

    [Fact]
    public async Task RunStreamThroughNginx_ArrivesTokenByToken_AndResumesThroughNginxWithNoGap()
    {
        _upstream.DefaultScript = new UpstreamScript { Tokens = Words, TokenDelay = TimeSpan.FromMilliseconds(150) };
        var firstPart = new List<(RunEventItem Event, TimeSpan At)>();
        var clock = Stopwatch.StartNew();
        string runId;
        using (var started = await _client.SendAsync(RunClient.Request("/api/runs", Flow), HttpCompletionOption.ResponseHeadersRead))
        {
            runId = started.Headers.GetValues("X-Run-Id").Single();
            await foreach (var item in RunClient.ReadAsync(started))
            {
                firstPart.Add((item, clock.Elapsed));
                if (firstPart.Count(e => e.Event.Name == "token") == 4)
                {
                    break;
                }
            }
        }

        var tokenTimes = firstPart.Where(e => e.Event.Name == "token").Select(e => e.At).ToList();
        Assert.True(tokenTimes[^1] - tokenTimes[0] >= TimeSpan.FromMilliseconds(300), "tokens came through nginx as they were made, not in one lump");

        using var resumed = await RunClient.WatchAsync(_client, runId, lastEventId: firstPart[^1].Event.Id);
        var secondPart = await RunClient.ReadAllAsync(resumed).WaitAsync(TimeSpan.FromSeconds(30));

        var all = firstPart.Select(e => e.Event).Concat(secondPart).ToList();
        Assert.Equal(Enumerable.Range(1, all.Count).Select(id => (long)id), all.Select(e => e.Id));
        Assert.Equal("run.completed", all[^1].Name);
        Assert.Equal(string.Concat(Words), RunClient.Tokens(all, "talk"));
    }

    [Fact]
    public async Task OneReplicaKilled_NginxSendsEveryNewRunToTheOther()
    {
        _upstream.DefaultScript = new UpstreamScript { Tokens = Words };
        await _a.KillAsync();

        for (var i = 0; i < 4; i++)
        {
            using var response = await _client.PostAsync("/api/runs", Json.Body(Flow));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var record = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
            Assert.Equal("completed", record["status"]!.GetValue<string>());
            Assert.Equal(string.Concat(Words), record["outputs"]!["talk"]!.GetValue<string>());
        }
    }
}
