using System.Text.Json.Nodes;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Runs;

/// <summary>
/// An llm node's user message is another node's output taken whole, and echo gives it back: without a budget, one
/// request of 1 MB held by 256 nodes was 256 MB of output in one run. A run's llm nodes may send and receive 4 Mi
/// characters in all; the node that would pass that fails, and its upstream call is stopped.
/// </summary>
public sealed class RunModelTextLimitTests(SimulatedGateway gateway) : IClassFixture<SimulatedGateway>
{
    private const int Budget = 4 << 20;

    [Fact]
    public async Task ManyNodesEchoingOneLargeInput_FailWithoutHoldingIt()
    {
        // 1,000,000 characters, one word: each node would take it in and give it back as a single token. Nodes run at
        // once, so which draw first varies: two may take the input in and give it back (4 million), or up to four may
        // take it in and then fail to give it back. Either way no fifth gets it, and the run holds at most two copies.
        var ids = Enumerable.Range(1, 20).Select(i => $"echo{i}").ToArray();
        var body = RunOf(ids.Select(id => (id, "in")), new string('x', 1_000_000));

        var (response, events) = await RunClient.RunAsync(gateway.Client, "/api/runs", body);
        response.Dispose();

        var completed = events.Where(e => e.Name == "node.completed" && ids.Contains(e.Node)).Select(e => e.Node).ToList();
        Assert.True(completed.Count <= 2, $"{completed.Count} nodes completed");
        Assert.True(events.Where(e => e.Name == "token").Sum(e => e.Data["text"]!.GetValue<string>().Length) <= 2_000_000);
        var failed = events.Where(e => e.Name == "node.failed").ToList();
        Assert.Equal(ids.Except(completed).Order(), failed.Select(e => e.Node).Order());
        Assert.All(failed, e => Assert.Equal("model_text_too_large", e.Data["error"]!["code"]!.GetValue<string>()));
        Assert.Equal(
            $"Node '{failed[0].Node}' would send or receive more text than a run's llm nodes may in all ({Budget:N0} characters).",
            failed[0].Data["error"]!["message"]!.GetValue<string>());
        Assert.Equal("run.failed", events[^1].Name);
    }

    [Fact]
    public async Task OutputCountsAsItStreams_TheNodeThatPassesTheBudgetStopsThere()
    {
        // Eight words of 100,000 characters (800,007 in all), echoed down a chain: "a" and "b" each take them in and
        // give them back (3,200,028 in all), then "c" takes them in (4,000,035) and may give back one word of them
        // before the second passes 4 Mi (4,194,304).
        var word = new string('w', 100_000);
        var body = RunOf([("a", "in"), ("b", "a"), ("c", "b")], string.Join(' ', Enumerable.Repeat(word, 8)));

        var (response, events) = await RunClient.RunAsync(gateway.Client, "/api/runs", body);
        response.Dispose();

        foreach (var node in new[] { "a", "b" })
        {
            Assert.Equal(800_007, events.Single(e => e.Name == "node.completed" && e.Node == node).Data["output"]!.GetValue<string>().Length);
        }

        Assert.Equal(1, events.Count(e => e.Name == "token" && e.Node == "c"));
        var failed = events.Single(e => e.Name == "node.failed");
        Assert.Equal("c", failed.Node);
        Assert.Equal("model_text_too_large", failed.Data["error"]!["code"]!.GetValue<string>());
        Assert.Equal("run.failed", events[^1].Name);
    }

    [Fact]
    public async Task ALongDocumentForTwoModels_FitsTheBudget()
    {
        // A whole request's worth, 1,000,000 characters, sent to two nodes at once (2 million), each answering 50 lorem words.
        var body = RunOf([("first", "in"), ("second", "in")], new string('d', 1_000_000), model: "lorem");

        var (response, events) = await RunClient.RunAsync(gateway.Client, "/api/runs", body);
        response.Dispose();

        Assert.DoesNotContain(events, e => e.Name == "node.failed");
        Assert.Equal(2, events.Count(e => e.Name == "node.completed" && e.Node is "first" or "second"));
        Assert.Equal("run.completed", events[^1].Name);
    }

    /// <summary>An input node <c>in</c>, the given llm nodes (id, the node whose output is its prompt) and an output of them all.</summary>
    private static string RunOf(IEnumerable<(string Id, string Prompt)> llmNodes, string input, string model = "echo")
    {
        var nodes = new JsonArray(new JsonObject { ["id"] = "in", ["type"] = "input" });
        var from = new JsonArray();
        foreach (var (id, prompt) in llmNodes)
        {
            nodes.Add(new JsonObject { ["id"] = id, ["type"] = "llm", ["model"] = model, ["prompt"] = prompt });
            from.Add(id);
        }

        nodes.Add(new JsonObject { ["id"] = "out", ["type"] = "output", ["from"] = from });
        return new JsonObject { ["flow"] = new JsonObject { ["nodes"] = nodes }, ["input"] = input }.ToJsonString();
    }
}
