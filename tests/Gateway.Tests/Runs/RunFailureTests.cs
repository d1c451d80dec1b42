using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Runs;

/// <summary>A branch that fails while the other one succeeds, against a real OpenAI-compatible upstream.</summary>
public sealed class RunFailureTests : UpstreamGatewayTests
{
    private const string TwoBranches = """
        {"flow":{"id":"branches","nodes":[
          {"id":"in","type":"input"},
          {"id":"good","type":"llm","model":"echo","prompt":"in"},
          {"id":"bad","type":"llm","model":"up","prompt":"in"},
          {"id":"after-bad","type":"prompt","template":"Fix: {{bad}}"},
          {"id":"out","type":"output","from":["good","bad","after-bad"]}]},
         "input":"one two three four"}
        """;

    [Fact]
    public async Task UpstreamDropsMidStream_NodeFailedThenRunFailed_AndTheOtherBranchsOutputIsKept()
    {
        // The pause lets the tokens reach the gateway before the reset, as they would from a real server.
        Upstream.Enqueue(new UpstreamScript { DropAfterTokens = 2, TokenDelay = TimeSpan.FromMilliseconds(30) });

        var (response, events) = await RunClient.RunAsync(Host.Client, "/api/runs", TwoBranches);
        response.Dispose();

        Assert.Equal("one two", RunClient.Tokens(events, "bad"));
        var failed = events.Single(e => e.Name == "node.failed");
        Assert.Equal("bad", failed.Node);
        Assert.Equal("upstream_error", failed.Data["error"]!["code"]!.GetValue<string>());
        Assert.StartsWith("Model 'up' failed: ", failed.Data["error"]!["message"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.DoesNotContain(events, e => e.Name == "node.completed" && e.Node == "bad");
        Assert.DoesNotContain(events, e => e.Name == "node.started" && e.Node == "after-bad");
        Assert.Equal("run.failed", events[^1].Name);
        Assert.Single(events, e => RunClient.TerminalEvents.Contains(e.Name));
        Assert.True(failed.Id < events[^1].Id);

        var record = events[^1].Data;
        Assert.Equal("failed", record["status"]!.GetValue<string>());
        Assert.Equal(["good"], record["outputs"]!.AsObject().Select(o => o.Key));
        Assert.Equal("one two three four", record["outputs"]!["good"]!.GetValue<string>());
        Assert.Equal("completed", record["nodes"]!["good"]!["status"]!.GetValue<string>());
        Assert.Equal("failed", record["nodes"]!["bad"]!["status"]!.GetValue<string>());
        Assert.Equal("test-model", record["nodes"]!["bad"]!["model"]!.GetValue<string>());
        Assert.Equal("upstream", record["nodes"]!["bad"]!["provider"]!.GetValue<string>());
        // What the cut call was counted with: the prompt's 18 characters (about 5 tokens), and the 2 tokens it brought.
        Assert.Equal(5, record["nodes"]!["bad"]!["usage"]!["inputTokens"]!.GetValue<long>());
        Assert.Equal(2, record["nodes"]!["bad"]!["usage"]!["outputTokens"]!.GetValue<long>());
        Assert.Equal("skipped", record["nodes"]!["after-bad"]!["status"]!.GetValue<string>());
        Assert.Equal("bad", record["error"]!["node"]!.GetValue<string>());
        Assert.Equal("upstream_error", record["error"]!["code"]!.GetValue<string>());

        using var stored = await Host.Client.GetAsync($"/api/runs/{record["runId"]}");
        Assert.True(System.Text.Json.Nodes.JsonNode.DeepEquals(record, await Json.ReadAsync(stored)));
    }

    [Fact]
    public async Task AnUpstreamThatReportsNoUsage_TheNodeRecordsWhatItWasCountedWith_NotNothing()
    {
        Upstream.Enqueue(new UpstreamScript { OmitUsage = true });
        const string OneNode = """
            {"flow":{"id":"quiet","nodes":[
              {"id":"in","type":"input"},
              {"id":"ask","type":"llm","model":"up","prompt":"in"},
              {"id":"out","type":"output","from":["ask"]}]},
             "input":"one two three four"}
            """;

        var (response, events) = await RunClient.RunAsync(Host.Client, "/api/runs", OneNode);
        response.Dispose();

        Assert.Equal("run.completed", events[^1].Name);
        // The user message's 18 characters at about four a token, and a token for each of the four chunks.
        var completed = events.Single(e => e.Name == "node.completed" && e.Node == "ask").Data["usage"]!;
        Assert.Equal(5, completed["inputTokens"]!.GetValue<long>());
        Assert.Equal(4, completed["outputTokens"]!.GetValue<long>());
        var record = events[^1].Data;
        Assert.True(System.Text.Json.Nodes.JsonNode.DeepEquals(completed, record["nodes"]!["ask"]!["usage"]));
        Assert.Equal(5, record["usage"]!["inputTokens"]!.GetValue<long>());
        Assert.Equal(4, record["usage"]!["outputTokens"]!.GetValue<long>());
    }

    [Fact]
    public async Task UpstreamFailsBeforeTheFirstToken_NodeFailedWithoutTokens_ThenRunFailed()
    {
        // Every attempt fails, so the outcome does not depend on how many retries the router makes.
        Upstream.DefaultScript = new UpstreamScript { Status = 500 };

        var (response, events) = await RunClient.RunAsync(Host.Client, "/api/runs", TwoBranches);
        response.Dispose();

        Assert.DoesNotContain(events, e => e.Name == "token" && e.Node == "bad");
        Assert.Equal("upstream_error", events.Single(e => e.Name == "node.failed").Data["error"]!["code"]!.GetValue<string>());
        Assert.Equal("run.failed", events[^1].Name);
        Assert.Equal("one two three four", events[^1].Data["outputs"]!["good"]!.GetValue<string>());
    }

    [Fact]
    public async Task UpstreamRefusesOurKey_NodeFailedAsAuthFailure_WithoutTheKeyAnywhere()
    {
        Upstream.DefaultScript = new UpstreamScript
        {
            Status = 401,
            ErrorBody = "{\"error\":{\"message\":\"Incorrect API key provided: " + FakeUpstream.ApiKey + "\"}}",
        };

        using var response = await Host.Client.PostAsync("/api/runs", Json.Body(TwoBranches));

        var body = await response.Content.ReadAsStringAsync();
        Assert.DoesNotContain(FakeUpstream.ApiKey, body, StringComparison.Ordinal);
        var record = System.Text.Json.Nodes.JsonNode.Parse(body)!;
        Assert.Equal("failed", record["status"]!.GetValue<string>());
        Assert.Equal("upstream_auth_failed", record["nodes"]!["bad"]!["error"]!["code"]!.GetValue<string>());
    }
}
