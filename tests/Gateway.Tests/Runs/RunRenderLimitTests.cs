using System.Text.Json.Nodes;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Runs;

/// <summary>
/// Templates that repeat nodes that repeat a variable multiply a small request: each run may render 1 Mi characters
/// in all, and the node that would pass that fails instead of taking the gateway's memory.
/// </summary>
public sealed class RunRenderLimitTests(SimulatedGateway gateway) : IClassFixture<SimulatedGateway>
{
    [Fact]
    public async Task ATemplateThatMultipliesItsInput_FailsThatNode_AndTheRunEndsFailed()
    {
        // 1,000 characters, then 100 times that (100,000), then 100 times that: 10 million, past the 1 Mi budget.
        var body = RunOf(
            ("p1", Repeat("v", 100)),
            ("p2", Repeat("p1", 100)),
            "p2",
            new string('x', 1000));

        var (response, events) = await RunClient.RunAsync(gateway.Client, "/api/runs", body);
        response.Dispose();

        Assert.Equal(100_000, events.Single(e => e.Name == "node.completed" && e.Node == "p1").Data["output"]!.GetValue<string>().Length);
        var failed = events.Single(e => e.Name == "node.failed");
        Assert.Equal("p2", failed.Node);
        Assert.Equal("rendered_too_large", failed.Data["error"]!["code"]!.GetValue<string>());
        Assert.Equal(
            "Node 'p2' would render more text than a run's templates may render in all (1,048,576 characters).",
            failed.Data["error"]!["message"]!.GetValue<string>());
        Assert.Equal("run.failed", events[^1].Name);
        Assert.Equal("p2", events[^1].Data["error"]!["node"]!.GetValue<string>());
    }

    [Fact]
    public async Task TheBudgetIsTheRunsNotEachNodes()
    {
        // Each node alone renders 800,000 characters, under the budget; the second one takes the run past it.
        var body = RunOf(("a", Repeat("v", 2)), ("b", Repeat("a", 1)), "b", new string('y', 400_000));

        var (response, events) = await RunClient.RunAsync(gateway.Client, "/api/runs", body);
        response.Dispose();

        Assert.Single(events, e => e.Name == "node.completed" && e.Node == "a");
        Assert.Equal("b", events.Single(e => e.Name == "node.failed").Node);
        Assert.Equal("run.failed", events[^1].Name);
    }

    [Fact]
    public async Task ANodeThatDoesNotFit_TakesNothingFromTheBudget_SoAnotherThatFitsRuns()
    {
        // "big" would render 1.2 million characters and fails; "small" renders 400,000 and still fits after it.
        var body = RunOf(("big", Repeat("v", 3)), ("small", Repeat("v", 1)), "small", new string('z', 400_000));

        var (response, events) = await RunClient.RunAsync(gateway.Client, "/api/runs", body);
        response.Dispose();

        Assert.Equal("big", events.Single(e => e.Name == "node.failed").Node);
        Assert.Equal(400_000, events.Single(e => e.Name == "node.completed" && e.Node == "small").Data["output"]!.GetValue<string>().Length);
        Assert.Equal("run.failed", events[^1].Name);
    }

    [Fact]
    public async Task AnLlmNodesSystemMessage_DrawsOnTheSameBudget()
    {
        var body = new JsonObject
        {
            ["flow"] = new JsonObject
            {
                ["nodes"] = new JsonArray(
                    new JsonObject { ["id"] = "in", ["type"] = "input" },
                    new JsonObject { ["id"] = "ask", ["type"] = "llm", ["model"] = "echo", ["prompt"] = "in", ["system"] = Repeat("v", 3) },
                    new JsonObject { ["id"] = "out", ["type"] = "output", ["from"] = new JsonArray("ask") }),
            },
            ["input"] = "hi",
            ["variables"] = new JsonObject { ["v"] = new string('s', 400_000) },
        }.ToJsonString();

        var (response, events) = await RunClient.RunAsync(gateway.Client, "/api/runs", body);
        response.Dispose();

        var failed = events.Single(e => e.Name == "node.failed");
        Assert.Equal("ask", failed.Node);
        Assert.Equal("rendered_too_large", failed.Data["error"]!["code"]!.GetValue<string>());
        Assert.DoesNotContain(events, e => e.Name == "token");
        Assert.Equal("run.failed", events[^1].Name);
    }

    private static string Repeat(string name, int times) => string.Concat(Enumerable.Repeat("{{" + name + "}}", times));

    /// <summary>A run of two prompt nodes and an output, with one variable <c>v</c>.</summary>
    private static string RunOf((string Id, string Template) first, (string Id, string Template) second, string output, string v) =>
        new JsonObject
        {
            ["flow"] = new JsonObject
            {
                ["id"] = "amplifier",
                ["nodes"] = new JsonArray(
                    new JsonObject { ["id"] = first.Id, ["type"] = "prompt", ["template"] = first.Template },
                    new JsonObject { ["id"] = second.Id, ["type"] = "prompt", ["template"] = second.Template },
                    new JsonObject { ["id"] = "out", ["type"] = "output", ["from"] = new JsonArray(output) }),
            },
            ["variables"] = new JsonObject { ["v"] = v },
        }.ToJsonString();
}
