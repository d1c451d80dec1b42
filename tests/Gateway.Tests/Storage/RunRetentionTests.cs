using System.Net;
using Gateway.Runs;
using Gateway.Storage;
using Gateway.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Gateway.Tests.Storage;

/// <summary>
/// <c>Gateway:Storage:RunRetentionDays</c>: ended runs older than it leave the store, with their events, on a clock
/// the test moves. Until 2026-12-06 nothing was ever deleted, and a busy gateway's store grew ~10 KB a run for good.
/// </summary>
public sealed class RunRetentionTests
{
    private readonly FakeTimeProvider _clock = new();

    [Fact]
    public async Task ARunPastItsRetention_IsGone_WithItsEvents_AndAYoungerOneStays()
    {
        // Finished runs' logs stay in memory for a week: longer than the run is kept in the store.
        await using var gateway = await StartAsync(retentionDays: "2", ("Gateway:Streaming:EventRetentionMinutes", "10080"));
        var old = await RunAsync(gateway, "old");
        _clock.Advance(TimeSpan.FromDays(1));
        var younger = await RunAsync(gateway, "younger");

        // Two days and an hour after the first run: the hourly pass that falls due takes it, and only it.
        _clock.Advance(TimeSpan.FromDays(1) + TimeSpan.FromHours(1));
        await WaitUntilAsync(async () => await gateway.Services.GetRequiredService<IRunStore>().GetAsync(old, CancellationToken.None) is null);

        using (var record = await gateway.Client.GetAsync($"/api/runs/{old}"))
        {
            Assert.Equal(HttpStatusCode.NotFound, record.StatusCode);
        }

        Assert.Empty(await gateway.Services.GetRequiredService<IRunStore>().GetEventsAsync(old, 0, CancellationToken.None));
        // Its log is still in this process's memory, which until 2026-12-06 (evening) streamed it to admins for as long.
        Assert.True(gateway.Services.GetRequiredService<LiveRuns>().TryGet(old, out _));
        using (var stream = await RunClient.WatchAsync(gateway.Client, old))
        {
            Assert.Equal(HttpStatusCode.NotFound, stream.StatusCode);
        }

        Assert.Equal([younger], await ListedAsync(gateway));
        using var watch = await RunClient.WatchAsync(gateway.Client, younger);
        var events = await RunClient.ReadAllAsync(watch);
        Assert.Equal(("run.started", "run.completed"), (events[0].Name, events[^1].Name));
        Assert.Equal("younger", RunClient.Tokens(events, "say"));
    }

    [Fact]
    public async Task WithRetentionZero_TheDefault_NothingIsDeleted()
    {
        await using var gateway = await StartAsync(retentionDays: "0");
        var old = await RunAsync(gateway, "old");

        _clock.Advance(TimeSpan.FromDays(3650));
        var younger = await RunAsync(gateway, "younger");

        Assert.Equal([younger, old], await ListedAsync(gateway));
        // No pass runs at all: the pruner stopped at start-up, so nothing can delete the old run later either.
        var pruner = gateway.Services.GetServices<IHostedService>().OfType<RunPruner>().Single();
        Assert.True(pruner.ExecuteTask is { IsCompletedSuccessfully: true }, "the pruner is still running with a retention of 0");
    }

    [Fact]
    public async Task APass_DeletesEverythingDue_InBatches()
    {
        await using var gateway = await StartAsync(retentionDays: "0");
        var store = gateway.Services.GetRequiredService<IRunStore>();
        var t0 = _clock.GetUtcNow();
        for (var i = 0; i < RunPruner.BatchSize + 2; i++)
        {
            var run = new RunRecord
            {
                RunId = $"run-{i:D4}",
                FlowId = "f",
                Status = RunStatus.Completed,
                CreatedAt = t0.AddSeconds(-i - 1),
                Outputs = new Dictionary<string, string>(),
                Nodes = new Dictionary<string, NodeRecord>(),
                Usage = TokenUsage.Zero,
            };
            await store.CreateAsync(run with { Status = RunStatus.Running }, "anonymous", new RunLease("A", t0), CancellationToken.None);
            await store.FinishAsync(run, new RunEventEntry(1, "run.completed", "{}"), CancellationToken.None);
        }

        var pruner = ActivatorUtilities.CreateInstance<RunPruner>(gateway.Services);
        Assert.Equal(RunPruner.BatchSize + 1, await pruner.PruneAsync(t0.AddSeconds(-1), CancellationToken.None));
        Assert.Equal(["run-0000"], await store.ListIdsAsync(null, null, 10, CancellationToken.None));
    }

    private static async Task<string[]> ListedAsync(GatewayHost gateway)
    {
        using var response = await gateway.Client.GetAsync("/api/runs");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var page = await System.Text.Json.JsonDocument.ParseAsync(await response.Content.ReadAsStreamAsync());
        return [.. page.RootElement.EnumerateArray().Select(run => run.GetProperty("runId").GetString()!)];
    }

    private async Task<GatewayHost> StartAsync(string retentionDays, params (string Key, string Value)[] more)
    {
        var settings = GatewayHost.SimulatedSettings();
        settings["Gateway:Storage:RunRetentionDays"] = retentionDays;
        foreach (var (key, value) in more)
        {
            settings[key] = value;
        }

        return await GatewayHost.StartAsync(settings, services => services.AddSingleton<TimeProvider>(_clock));
    }

    private static async Task<string> RunAsync(GatewayHost gateway, string word)
    {
        using var response = await gateway.Client.PostAsync("/api/runs", Json.Body($$"""
            {"flow":{"nodes":[{"id":"in","type":"input"},{"id":"say","type":"llm","model":"echo","prompt":"in"},
              {"id":"out","type":"output","from":["say"]}]},"input":"{{word}}"}
            """));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return response.Headers.GetValues("X-Run-Id").Single();
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!await condition() && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
        }

        Assert.True(await condition(), "not within 10 s");
    }
}
