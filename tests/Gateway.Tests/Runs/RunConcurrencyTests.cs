using System.Diagnostics;
using Gateway.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.Tests.Runs;

/// <summary>Independent llm nodes call their providers at the same time.</summary>
public sealed class RunConcurrencyTests : IAsyncLifetime
{
    private const int TokenDelayMs = 60;
    private const int Tokens = 10;

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

        var stopwatch = Stopwatch.StartNew();
        var (response, events) = await RunClient.RunAsync(_gateway.Client, "/api/runs", body);
        var elapsed = stopwatch.Elapsed;
        response.Dispose();

        Assert.Equal("run.completed", events[^1].Name);
        Assert.True(elapsed >= TimeSpan.FromMilliseconds(Tokens * TokenDelayMs), "each node waits TokenDelayMs before every token");

        // Measured by the run itself, so a loaded machine stretches the durations and the span alike: one after the
        // other the two nodes would span the sum of their durations; side by side, about the longer one.
        var nodes = events[^1].Data["nodes"]!;
        DateTimeOffset At(string node, string field) => nodes[node]![field]!.GetValue<DateTimeOffset>();
        TimeSpan Duration(string node) => At(node, "completedAt") - At(node, "startedAt");
        var span = Max(At("left", "completedAt"), At("right", "completedAt")) - Min(At("left", "startedAt"), At("right", "startedAt"));
        var (longer, shorter) = Duration("left") > Duration("right") ? (Duration("left"), Duration("right")) : (Duration("right"), Duration("left"));
        Assert.True(span < longer + shorter / 2, $"the nodes spanned {span}, with durations {longer} and {shorter}");
        Assert.True(At("left", "startedAt") < At("right", "completedAt") && At("right", "startedAt") < At("left", "completedAt"), "the two nodes' runs should overlap");

        var tokens = events.Where(e => e.Name == "token").Select(e => e.Node).ToList();
        Assert.True(tokens.IndexOf("right") < tokens.LastIndexOf("left") && tokens.IndexOf("left") < tokens.LastIndexOf("right"),
            $"tokens should interleave, got {string.Join(",", tokens)}");
    }

    /// <summary>
    /// The same on a clock that moves only when the test says: both nodes are found waiting for their next token
    /// at the same moment, and every tick brings one token from each.
    /// </summary>
    [Fact]
    public async Task TwoNodes_WaitForTheClockTogether_AndEachTickBringsATokenFromBoth()
    {
        var clock = new FakeTimeProvider();
        await using var gateway = await GatewayHost.StartAsync(
            GatewayHost.SimulatedSettings(tokenDelayMs: 1000), services => services.AddSingleton<TimeProvider>(clock));
        const string body = """
            {"flow":{"nodes":[
              {"id":"in","type":"input"},
              {"id":"left","type":"llm","model":"lorem","prompt":"in","maxTokens":3},
              {"id":"right","type":"llm","model":"echo","prompt":"in"},
              {"id":"out","type":"output","from":["left","right"]}]},
             "input":"one two three"}
            """;

        using var response = await gateway.Client.SendAsync(RunClient.Request("/api/runs", body), HttpCompletionOption.ResponseHeadersRead);
        var events = RunClient.ReadAllAsync(response);
        for (var tick = 0; tick < 3; tick++)
        {
            // The routing's own timeouts (first token, idle, total) are armed on the clock too, but far later.
            await WaitUntilAsync(() => clock.TimersDueWithin(TimeSpan.FromSeconds(1)) == 2);
            clock.Advance(TimeSpan.FromSeconds(1));
        }

        var tokens = (await events).Where(e => e.Name == "token").Select(e => e.Node).ToList();
        Assert.Equal(6, tokens.Count);
        for (var tick = 0; tick < 3; tick++)
        {
            Assert.Equal(["left", "right"], tokens.GetRange(2 * tick, 2).Order(StringComparer.Ordinal));
        }
    }

    private static DateTimeOffset Max(DateTimeOffset a, DateTimeOffset b) => a > b ? a : b;

    private static DateTimeOffset Min(DateTimeOffset a, DateTimeOffset b) => a < b ? a : b;

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (!condition())
        {
            await Task.Delay(5, timeout.Token);
        }
    }
}
