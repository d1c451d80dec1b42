using System.Diagnostics;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Runs;

/// <summary>Independent llm nodes call their providers at the same time.</summary>
public sealed class RunConcurrencyTests : IAsyncLifetime
{
    private const int TokenDelayMs = 60;
    private const int Tokens = 15;

    private GatewayHost _gateway = null!;

    public async Task InitializeAsync() => _gateway = await GatewayHost.StartAsync(GatewayHost.SimulatedSettings(tokenDelayMs: TokenDelayMs));

    public async Task DisposeAsync() => await _gateway.DisposeAsync();

    [Fact]
    public async Task TwoSlowNodes_RunInParallel_TakingAboutTheLongerTimeNotTheSum_AndTheirTokensInterleave()
    {
        var body = $$"""
            {"flow":{"nodes":[
              {"id":"in","type":"input"},
              {"id":"left","type":"llm","model":"lorem","prompt":"in","maxTokens":{{Tokens}}},
              {"id":"right","type":"llm","model":"lorem","prompt":"in","maxTokens":{{Tokens}}},
              {"id":"out","type":"output","from":["left","right"]}]},
             "input":"go"}
            """;

        var clock = Stopwatch.StartNew();
        var (response, events) = await RunClient.RunAsync(_gateway.Client, "/api/runs", body);
        var elapsed = clock.Elapsed;
        response.Dispose();

        Assert.Equal("run.completed", events[^1].Name);
        // Each node needs at least Tokens × TokenDelayMs (900 ms); one after the other they would need 1800 ms.
        var oneNode = TimeSpan.FromMilliseconds(Tokens * TokenDelayMs);
        Assert.InRange(elapsed, oneNode, 2 * oneNode - TimeSpan.FromMilliseconds(100));

        var nodes = events[^1].Data["nodes"]!;
        DateTimeOffset At(string node, string field) => nodes[node]![field]!.GetValue<DateTimeOffset>();
        Assert.True(At("left", "startedAt") < At("right", "completedAt") && At("right", "startedAt") < At("left", "completedAt"), "the two nodes' runs should overlap");

        var tokens = events.Where(e => e.Name == "token").Select(e => e.Node).ToList();
        Assert.True(tokens.IndexOf("right") < tokens.LastIndexOf("left") && tokens.IndexOf("left") < tokens.LastIndexOf("right"),
            $"tokens should interleave, got {string.Join(",", tokens)}");
    }
}
