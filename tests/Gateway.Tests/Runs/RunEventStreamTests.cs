using System.Net;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Runs;

/// <summary>The run event grammar of DESIGN §5, as an SSE client reads it.</summary>
public sealed class RunEventStreamTests(SimulatedGateway gateway) : IClassFixture<SimulatedGateway>
{
    private const string Compare = """
        {"flow":{"id":"compare","nodes":[
          {"id":"question","type":"input"},
          {"id":"prompt","type":"prompt","template":"Answer briefly: {{question}}"},
          {"id":"fast","type":"llm","model":"echo","prompt":"prompt"},
          {"id":"slow","type":"llm","model":"lorem","prompt":"prompt","maxTokens":6},
          {"id":"answer","type":"output","from":["fast","slow"]}]},
         "input":"What is a gateway?"}
        """;

    private const string Chain = """
        {"flow":{"nodes":[
          {"id":"text","type":"input"},
          {"id":"ask","type":"prompt","template":"Summarise: {{text}}"},
          {"id":"summary","type":"llm","model":"echo","prompt":"ask"},
          {"id":"ask2","type":"prompt","template":"Into {{language}}: {{summary}}"},
          {"id":"translation","type":"llm","model":"echo","prompt":"ask2","system":"Translate into {{language}}."},
          {"id":"out","type":"output","from":["translation"]}]},
         "input":"cats sleep a lot","variables":{"language":"French"}}
        """;

    [Fact]
    public async Task Stream_HasSseHeadersAndTheRunId_AndStartsWithRunStarted()
    {
        var (response, events) = await RunClient.RunAsync(gateway.Client, "/api/runs", Compare);
        using var _ = response;

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType!.MediaType);
        Assert.Equal("no-cache", response.Headers.CacheControl!.ToString());
        Assert.Equal("no", response.Headers.GetValues("X-Accel-Buffering").Single());
        var runId = response.Headers.GetValues("X-Run-Id").Single();
        Assert.Equal("run.started", events[0].Name);
        Assert.Equal(runId, events[0].Data["runId"]!.GetValue<string>());
        Assert.Equal("compare", events[0].Data["flowId"]!.GetValue<string>());
    }

    [Fact]
    public async Task Stream_IdsRunFromOneWithoutGaps_AndExactlyOneTerminalEventComesLast()
    {
        var (response, events) = await RunClient.RunAsync(gateway.Client, "/api/runs", Compare);
        response.Dispose();

        Assert.Equal(Enumerable.Range(1, events.Count).Select(i => (long)i), events.Select(e => e.Id));
        Assert.Single(events, e => RunClient.TerminalEvents.Contains(e.Name));
        Assert.Equal("run.completed", events[^1].Name);
        Assert.Equal("completed", events[^1].Data["status"]!.GetValue<string>());
    }

    [Fact]
    public async Task Stream_NodeCompletedOutputIsTheNodesTokensConcatenated()
    {
        var (response, events) = await RunClient.RunAsync(gateway.Client, "/api/runs", Compare);
        response.Dispose();

        foreach (var node in new[] { "fast", "slow" })
        {
            var completed = events.Single(e => e.Name == "node.completed" && e.Node == node);
            Assert.Equal(RunClient.Tokens(events, node), completed.Data["output"]!.GetValue<string>());
        }

        var record = events[^1].Data;
        Assert.Equal("Answer briefly: What is a gateway?", record["outputs"]!["fast"]!.GetValue<string>());
        Assert.Equal("Lorem ipsum dolor sit amet, consectetur", record["outputs"]!["slow"]!.GetValue<string>());
    }

    [Fact]
    public async Task Stream_EachNodeStartsAfterItsInputsComplete_AndItsTokensComeBetweenItsStartAndEnd()
    {
        var (response, events) = await RunClient.RunAsync(gateway.Client, "/api/runs", Chain);
        response.Dispose();

        long IdOf(string name, string node) => events.Single(e => e.Name == name && e.Node == node).Id;
        var chain = new[] { "text", "ask", "summary", "ask2", "translation", "out" };
        for (var i = 1; i < chain.Length; i++)
        {
            Assert.True(IdOf("node.completed", chain[i - 1]) < IdOf("node.started", chain[i]), $"{chain[i]} started before {chain[i - 1]} completed");
        }

        var tokenIds = events.Where(e => e.Name == "token" && e.Node == "translation").Select(e => e.Id).ToList();
        Assert.NotEmpty(tokenIds);
        Assert.All(tokenIds, id => Assert.InRange(id, IdOf("node.started", "translation"), IdOf("node.completed", "translation")));
    }

    [Fact]
    public async Task Templates_FillInNodeOutputsVariablesAndTheInput()
    {
        var (response, events) = await RunClient.RunAsync(gateway.Client, "/api/runs", Chain);
        response.Dispose();

        var record = events[^1].Data;
        Assert.Equal("Summarise: cats sleep a lot", record["nodes"]!["ask"]!["output"]!.GetValue<string>());
        Assert.Equal("Into French: Summarise: cats sleep a lot", record["outputs"]!["translation"]!.GetValue<string>());
        Assert.Equal(["translation"], record["outputs"]!.AsObject().Select(o => o.Key));
    }

    [Fact]
    public async Task Stream_ReportsUsagePerNodeAndInTotal()
    {
        var (response, events) = await RunClient.RunAsync(gateway.Client, "/api/runs", Chain);
        response.Dispose();

        var summary = events.Single(e => e.Name == "node.completed" && e.Node == "summary").Data;
        Assert.Equal("echo", summary["model"]!.GetValue<string>());
        Assert.Equal("simulated", summary["provider"]!.GetValue<string>());
        Assert.Equal("stop", summary["finishReason"]!.GetValue<string>());
        Assert.Equal(5, summary["usage"]!["inputTokens"]!.GetValue<int>());
        Assert.Equal(5, summary["usage"]!["outputTokens"]!.GetValue<int>());
        var record = events[^1].Data;
        // translation: system "Translate into French." (3 words) + user "Into French: Summarise: cats sleep a lot" (7 words).
        Assert.Equal(5 + 10, record["usage"]!["inputTokens"]!.GetValue<int>());
        Assert.Equal(5 + 7, record["usage"]!["outputTokens"]!.GetValue<int>());
        Assert.Equal(1, record["nodes"]!["translation"]!["attempts"]!.GetValue<int>());
    }

    [Fact]
    public async Task Stream_TextWithQuotesLineBreaksAndUnicodeArrivesExactly()
    {
        const string text = "naïve \"quoted\" </script>\nnext line 🙂";
        var body = $$"""
            {"flow":{"nodes":[{"id":"in","type":"input"},{"id":"say","type":"llm","model":"echo","prompt":"in"},
              {"id":"out","type":"output","from":["say"]}]},"input":{{System.Text.Json.JsonSerializer.Serialize(text)}}}
            """;

        var (response, events) = await RunClient.RunAsync(gateway.Client, "/api/runs", body);
        response.Dispose();

        Assert.Equal(text, RunClient.Tokens(events, "say"));
        Assert.Equal(text, events[^1].Data["outputs"]!["say"]!.GetValue<string>());
    }

    [Fact]
    public async Task StreamQueryParameter_StreamsWithoutAnAcceptHeader()
    {
        using var response = await gateway.Client.PostAsync("/api/runs?stream=true", Json.Body(Compare));

        Assert.Equal("text/event-stream", response.Content.Headers.ContentType!.MediaType);
        var events = await RunClient.ReadAllAsync(response);
        Assert.Equal("run.completed", events[^1].Name);
    }
}
