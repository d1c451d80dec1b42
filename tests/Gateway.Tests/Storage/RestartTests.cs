using System.Net;
using System.Text.Json.Nodes;
using Gateway.Runs;
using Gateway.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.Tests.Storage;

/// <summary>Flows, runs and run events outlive the process: one gateway stops, the next opens the same SQLite file.</summary>
public sealed class RestartTests : IDisposable
{
    private readonly string _database = GatewayHost.NewDatabasePath();

    private Dictionary<string, string?> Settings()
    {
        var settings = GatewayHost.SimulatedSettings();
        settings[GatewayHost.StorageKey] = GatewayHost.ConnectionString(_database);
        return settings;
    }

    [Fact]
    public async Task FlowsRunsAndEvents_SurviveARestart()
    {
        JsonNode flow, run;
        IReadOnlyList<RunEventEntry> events;
        await using (var first = await GatewayHost.StartAsync(Settings()))
        {
            using var created = await first.Client.PostAsync("/api/flows", Json.Body("""
                {"id":"durable","nodes":[{"id":"in","type":"input"},{"id":"say","type":"llm","model":"echo","prompt":"in"},
                  {"id":"out","type":"output","from":["say"]}]}
                """));
            flow = await Json.ReadAsync(created);
            using var ran = await first.Client.PostAsync("/api/flows/durable/run", Json.Body("""{"input":"still here"}"""));
            run = await Json.ReadAsync(ran);
            events = await first.Services.GetRequiredService<IRunStore>().GetEventsAsync(run["runId"]!.GetValue<string>(), 0, CancellationToken.None);
        }

        await using var second = await GatewayHost.StartAsync(Settings());

        using var fetchedFlow = await second.Client.GetAsync("/api/flows/durable");
        Assert.True(JsonNode.DeepEquals(flow, await Json.ReadAsync(fetchedFlow)));
        using var fetchedRun = await second.Client.GetAsync($"/api/runs/{run["runId"]}");
        Assert.True(JsonNode.DeepEquals(run, await Json.ReadAsync(fetchedRun)));
        using var listed = await second.Client.GetAsync("/api/runs?flowId=durable");
        Assert.Equal(run["runId"]!.GetValue<string>(), (await Json.ReadAsync(listed))[0]!["runId"]!.GetValue<string>());
        var reread = await second.Services.GetRequiredService<IRunStore>().GetEventsAsync(run["runId"]!.GetValue<string>(), 0, CancellationToken.None);
        Assert.Equal(events, reread);
        Assert.Equal(Enumerable.Range(1, reread.Count).Select(i => (long)i), reread.Select(e => e.Id));
        using var again = await second.Client.PostAsync("/api/flows/durable/run", Json.Body("""{"input":"and again"}"""));
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
    }

    [Fact]
    public async Task ASavedFlowWhoseModelTheNextConfigurationLacks_Is400_KeyedByItsPathInTheFlow()
    {
        await using (var first = await GatewayHost.StartAsync(GatewayHost.WithAlias(Settings(), "gone", "simulated", "echo")))
        {
            using var created = await first.Client.PostAsync("/api/flows", Json.Body("""
                {"id":"stale","nodes":[{"id":"in","type":"input"},{"id":"say","type":"llm","model":"gone","prompt":"in"},
                  {"id":"out","type":"output","from":["say"]}]}
                """));
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        }

        await using var second = await GatewayHost.StartAsync(Settings());

        using var response = await second.Client.PostAsync("/api/flows/stale/run", Json.Body("""{"input":"x"}"""));
        // A tweak that has nothing to do with it does not take the blame.
        using var tweaked = await second.Client.PostAsync("/api/flows/stale/run", Json.Body("""{"input":"x","tweaks":{"say":{"temperature":0}}}"""));

        foreach (var answer in new[] { response, tweaked })
        {
            var errors = await Problems.ReadValidationErrorsAsync(answer);
            Assert.Equal(["nodes[1].model"], errors.Select(e => e.Key));
            Assert.Equal(["The saved flow is not valid: Unknown model 'gone'; this gateway serves: echo, lorem."], Problems.At(errors, "nodes[1].model"));
        }
    }

    [Fact]
    public async Task RunLeftRunning_BecomesInterruptedAtStartUp_AndItsLogGetsATerminalEvent()
    {
        const string runId = "run-left-behind";
        await using (var first = await GatewayHost.StartAsync(Settings()))
        {
            // What a crash leaves: a record still running, and a log without its terminal event.
            var store = first.Services.GetRequiredService<IRunStore>();
            await store.CreateAsync(new RunRecord
            {
                RunId = runId,
                FlowId = "crashed",
                Status = RunStatus.Running,
                CreatedAt = DateTimeOffset.UtcNow,
                Outputs = new Dictionary<string, string>(),
                Nodes = new Dictionary<string, NodeRecord>
                {
                    ["say"] = new() { Status = NodeStatus.Running, StartedAt = DateTimeOffset.UtcNow },
                    ["out"] = new() { Status = NodeStatus.Pending },
                },
                Usage = TokenUsage.Zero,
            }, owner: "anonymous", new RunLease("crashed-replica", DateTimeOffset.UtcNow.AddMinutes(1)), CancellationToken.None);
            await store.AppendEventsAsync(runId, [new RunEventEntry(1, "run.started", """{"runId":"run-left-behind","flowId":"crashed"}""")], null, CancellationToken.None);
            await store.AppendEventsAsync(runId, [new RunEventEntry(2, "node.started", """{"node":"say","type":"llm"}""")], null, CancellationToken.None);
        }

        await using var second = await GatewayHost.StartAsync(Settings());

        using var response = await second.Client.GetAsync($"/api/runs/{runId}");
        var record = await Json.ReadAsync(response);
        Assert.Equal("interrupted", record["status"]!.GetValue<string>());
        Assert.Equal("interrupted", record["error"]!["code"]!.GetValue<string>());
        Assert.NotNull(record["completedAt"]);
        Assert.Equal("cancelled", record["nodes"]!["say"]!["status"]!.GetValue<string>());
        Assert.Equal("skipped", record["nodes"]!["out"]!["status"]!.GetValue<string>());
        var events = await second.Services.GetRequiredService<IRunStore>().GetEventsAsync(runId, 0, CancellationToken.None);
        Assert.Equal([1L, 2L, 3L], events.Select(e => e.Id));
        Assert.Equal("run.failed", events[^1].Name);
        // Counted too, although it ended before the host had started (the metrics listen from its first phase).
        var (_, samples) = await Exposition.ScrapeAsync(second);
        Assert.Equal(1, Exposition.Of(samples, "gateway_runs_total").Single(s => s.Key.Contains("gateway_run_status=\"interrupted\"", StringComparison.Ordinal)).Value);
        Assert.True(JsonNode.DeepEquals(record, JsonNode.Parse(events[^1].Data)));
    }

    [Fact]
    public async Task ACallCutOffByACrash_CountsItsPromptAndTheTokensItLogged_InTheRecordAndTheUsageReport()
    {
        const string runId = "run-crashed-mid-call";
        await using (var first = await GatewayHost.StartAsync(Settings()))
        {
            // What a crash mid-call leaves: the node's route and prompt spend, saved at its first token, and its tokens.
            var store = first.Services.GetRequiredService<IRunStore>();
            await store.CreateAsync(new RunRecord
            {
                RunId = runId,
                Status = RunStatus.Running,
                CreatedAt = DateTimeOffset.UtcNow,
                Outputs = new Dictionary<string, string>(),
                Nodes = new Dictionary<string, NodeRecord>
                {
                    ["in"] = new() { Status = NodeStatus.Completed, Output = "go" },
                    ["say"] = new()
                    {
                        Status = NodeStatus.Running,
                        StartedAt = DateTimeOffset.UtcNow,
                        Model = "lorem",
                        Provider = "simulated",
                        Attempts = 1,
                        Usage = new TokenUsage(5, 0),
                    },
                },
                Usage = new TokenUsage(5, 0),
            }, owner: "anonymous", new RunLease("crashed-replica", DateTimeOffset.UtcNow.AddMinutes(1)), CancellationToken.None);
            var id = 0L;
            foreach (var (name, data) in new[]
            {
                ("run.started", """{"runId":"run-crashed-mid-call","flowId":null}"""),
                ("node.started", """{"node":"say","type":"llm"}"""),
                ("token", """{"node":"say","text":"lorem"}"""),
                ("token", """{"node":"say","text":" ipsum"}"""),
                ("token", """{"node":"say","text":" dolor"}"""),
            })
            {
                await store.AppendEventsAsync(runId, [new RunEventEntry(++id, name, data)], null, CancellationToken.None);
            }
        }

        await using var second = await GatewayHost.StartAsync(Settings());

        using var response = await second.Client.GetAsync($"/api/runs/{runId}");
        var record = await Json.ReadAsync(response);
        var say = record["nodes"]!["say"]!;
        Assert.Equal("cancelled", say["status"]!.GetValue<string>());
        Assert.Equal(("lorem", "simulated"), (say["model"]!.GetValue<string>(), say["provider"]!.GetValue<string>()));
        Assert.Equal((5, 3), (say["usage"]!["inputTokens"]!.GetValue<long>(), say["usage"]!["outputTokens"]!.GetValue<long>()));
        Assert.Equal((5, 3), (record["usage"]!["inputTokens"]!.GetValue<long>(), record["usage"]!["outputTokens"]!.GetValue<long>()));
        // It was left out of the report: its record said it had spent nothing.
        using var usage = await second.Client.GetAsync("/api/usage?groupBy=model");
        var group = Assert.Single((await Json.ReadAsync(usage))["groups"]!.AsArray())!;
        Assert.Equal((1, 3), (group["runs"]!.GetValue<int>(), group["outputTokens"]!.GetValue<long>()));
    }

    [Fact]
    public async Task ARunningNodesRouteAndPromptSpend_AreStoredAtItsFirstToken()
    {
        var settings = Settings();
        settings["Gateway:Providers:simulated:TokenDelayMs"] = "200";
        await using var gateway = await GatewayHost.StartAsync(settings);
        using var response = await gateway.Client.SendAsync(RunClient.Request("/api/runs", RunClient.LoremRun(maxTokens: 50)), HttpCompletionOption.ResponseHeadersRead);
        var runId = response.Headers.GetValues("X-Run-Id").Single();
        await foreach (var item in RunClient.ReadAsync(response))
        {
            if (item.Name == "token")
            {
                break;
            }
        }

        var stored = await gateway.Services.GetRequiredService<IRunStore>().GetAsync(runId, CancellationToken.None);

        var talk = stored!.Nodes["talk"];
        Assert.Equal(NodeStatus.Running, talk.Status);
        Assert.Equal(("lorem", "simulated", 1), (talk.Model, talk.Provider, talk.Attempts));
        Assert.True(talk.Usage is { InputTokens: > 0, OutputTokens: 0 }, $"usage {talk.Usage}");
    }

    public void Dispose() => GatewayHost.DeleteDatabase(_database);
}
