using System.Text.Json.Nodes;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Runs;

/// <summary>
/// A replica with a configured id (<c>Gateway:Cluster:ReplicaId</c>) that is killed and started again ends the runs it
/// was cut off from at start-up, without waiting for their leases to lapse; a replica with another id leaves them be.
/// </summary>
public sealed class ReplicaRestartTests : IAsyncLifetime
{
    private static readonly string Flow = """
        {"flow":{"id":"stuck","nodes":[{"id":"in","type":"input"},{"id":"talk","type":"llm","model":"up","prompt":"in"},
          {"id":"out","type":"output","from":["talk"]}]},"input":"anything"}
        """;

    private FakeUpstream _upstream = null!;
    private Dictionary<string, string?> _settings = null!;

    public async Task InitializeAsync()
    {
        _upstream = await FakeUpstream.StartAsync();
        _upstream.DefaultScript = new UpstreamScript { Tokens = ["one ", "two ", "three "], Stall = (1, TimeSpan.FromMinutes(2)) };
        _settings = await ReplicaTests.ReplicaSettingsAsync(_upstream);
        // Far longer than the test: only the restart can end the run in time.
        _settings["Gateway:Cluster:LeaseSeconds"] = "600";
    }

    public async Task DisposeAsync() => await _upstream.DisposeAsync();

    [Fact]
    public async Task KilledReplicaStartedAgainUnderItsId_InterruptsItsCutOffRunAtStartUp_WhileAnotherReplicaLeftItRunning()
    {
        string runId;
        await using (var first = await ReplicaTests.StartReplicaAsync(_settings, "a"))
        {
            runId = await RunClient.StartInBackgroundAsync(first.Client, Flow);
            // Killed once the record shows the llm node under way.
            await ReplicaTests.WaitUntilAsync(async () => (await RecordAsync(first, runId))["nodes"]!["talk"]!["status"]!.GetValue<string>() == "running");
            await first.KillAsync();
        }

        await using (var other = await ReplicaTests.StartReplicaAsync(_settings, "b"))
        {
            Assert.Equal("running", (await RecordAsync(other, runId))["status"]!.GetValue<string>());
        }

        await using var again = await ReplicaTests.StartReplicaAsync(_settings, "a");
        var record = await RecordAsync(again, runId);
        Assert.Equal("interrupted", record["status"]!.GetValue<string>());
        Assert.Equal("cancelled", record["nodes"]!["talk"]!["status"]!.GetValue<string>());
        using var replay = await RunClient.WatchAsync(again.Client, runId);
        var events = await RunClient.ReadAllAsync(replay);
        Assert.Equal("run.failed", events[^1].Name);
        Assert.Equal(Enumerable.Range(1, events.Count).Select(id => (long)id), events.Select(e => e.Id));
    }

    private static async Task<JsonNode> RecordAsync(GatewayProcess replica, string runId)
    {
        using var response = await replica.Client.GetAsync($"/api/runs/{runId}");
        response.EnsureSuccessStatusCode();
        return JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
    }
}
