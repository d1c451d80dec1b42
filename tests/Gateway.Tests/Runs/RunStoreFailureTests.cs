using System.Net;
using Gateway.Runs;
using Gateway.Tests.Infrastructure;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.Tests.Runs;

/// <summary>
/// A run whose events cannot be stored: a store away for a moment is waited for; a run that must stop still ends
/// with its terminal event, for the watchers here as in the store.
/// </summary>
public sealed class RunStoreFailureTests : IDisposable
{
    private static readonly string LongRun = RunClient.LoremRun(maxTokens: 60);

    private readonly string _database = GatewayHost.NewDatabasePath();

    private Dictionary<string, string?> Settings()
    {
        var settings = GatewayHost.SimulatedSettings(tokenDelayMs: 50);
        settings[GatewayHost.StorageKey] = GatewayHost.ConnectionString(_database);
        return settings;
    }

    [Fact]
    public async Task AnotherReplicaEndsTheRunUnderIt_TheWatcherHereGetsThatTerminalEvent_NotASilentEnd()
    {
        await using var gateway = await GatewayHost.StartAsync(Settings());
        var response = await gateway.Client.SendAsync(RunClient.Request("/api/runs", LongRun), HttpCompletionOption.ResponseHeadersRead);
        var runId = response.Headers.GetValues("X-Run-Id").Single();
        var seen = new List<RunEventItem>();
        await foreach (var item in RunClient.ReadAsync(response))
        {
            seen.Add(item);
            if (seen.Count(e => e.Name == "token") == 3)
            {
                break;
            }
        }

        // What a replica that took the run over does: its terminal event takes the id this replica's next event wanted.
        var store = gateway.Services.GetRequiredService<IRunStore>();
        var record = (await store.GetAsync(runId, CancellationToken.None))!;
        await gateway.Services.GetRequiredService<RunEnder>().EndAsync(record, RunEnder.ReplicaStopped, CancellationToken.None);
        seen.AddRange(await RunClient.ReadAllAsync(response));
        response.Dispose();

        Assert.Equal(Enumerable.Range(1, seen.Count).Select(id => (long)id), seen.Select(e => e.Id));
        Assert.Single(seen, e => RunClient.TerminalEvents.Contains(e.Name));
        Assert.Equal("run.failed", seen[^1].Name);
        Assert.Equal("interrupted", seen[^1].Data["status"]!.GetValue<string>());
        Assert.Equal("interrupted", (await store.GetAsync(runId, CancellationToken.None))!.Status);
        Assert.Equal(RunClient.Lines(seen), RunClient.Lines(await ReplayAsync(gateway, runId)));
    }

    [Fact]
    public async Task WhileTheStoreCannotBeRead_ARunExecutingHere_IsStillCancelled()
    {
        FlakyRunStore? flaky = null;
        await using var gateway = await GatewayHost.StartAsync(Settings(), services =>
        {
            services.AddSingleton<Gateway.Storage.SqliteRunStore>();
            services.AddSingleton<IRunStore>(provider => flaky = new FlakyRunStore(provider.GetRequiredService<Gateway.Storage.SqliteRunStore>()));
        });
        using var started = await gateway.Client.PostAsync("/api/runs?background=true", Json.Body(LongRun));
        var runId = started.Headers.GetValues(RunLauncher.RunIdHeader).Single();

        flaky!.FailOwnerReads = true;
        using var cancel = await gateway.Client.PostAsync($"/api/runs/{runId}/cancel", null);
        flaky.FailOwnerReads = false;

        // Until 2026-12-06 the owner was read from the store first: a 5xx, and the run went on calling its model.
        Assert.Equal(HttpStatusCode.Accepted, cancel.StatusCode);
        using var watched = await gateway.Client.GetAsync($"/api/runs/{runId}/events");
        var events = await RunClient.ReadAllAsync(watched);
        Assert.Equal("run.cancelled", events[^1].Name);
    }

    [Fact]
    public async Task TheStoreRefusingWritesForAMoment_AsInAFailover_TheRunTriesAgainAndCompletes_WithNoEventLost()
    {
        FlakyRunStore? flaky = null;
        await using var gateway = await GatewayHost.StartAsync(Settings(), services =>
        {
            services.AddSingleton<Gateway.Storage.SqliteRunStore>();
            services.AddSingleton<IRunStore>(provider => flaky = new FlakyRunStore(provider.GetRequiredService<Gateway.Storage.SqliteRunStore>()));
        });
        var response = await gateway.Client.SendAsync(RunClient.Request("/api/runs", LongRun), HttpCompletionOption.ResponseHeadersRead);
        var seen = new List<RunEventItem>();
        await foreach (var item in RunClient.ReadAsync(response))
        {
            seen.Add(item);
            if (item.Name == "token" && seen.Count(e => e.Name == "token") == 3)
            {
                flaky!.RefuseNextAppends(3);
            }
        }

        response.Dispose();
        Assert.Equal(3, flaky!.Refused);
        Assert.Equal(Enumerable.Range(1, seen.Count).Select(id => (long)id), seen.Select(e => e.Id));
        Assert.Equal("run.completed", seen[^1].Name);
        Assert.Equal(60, RunClient.Tokens(seen, "talk").Split(' ', StringSplitOptions.RemoveEmptyEntries).Length);
    }

    [Fact]
    public async Task TheStoreAwayForNineSeconds_WithinTheLease_TheRunWaitsAndCompletes()
    {
        // Six refusals in a row: 200 + 400 + 800 + 1600 + 3200 + 3200 ms of waiting, as long as a PostgreSQL restart
        // takes. Until 2026-12-05 a run gave up after six tries (~6 s), whatever its lease; now it waits for two thirds
        // of it (20 s of a 30 s lease here).
        var (seen, flaky) = await RunThroughRefusalsAsync(refusals: 6, leaseSeconds: "30");

        Assert.Equal(6, flaky.Refused);
        Assert.Equal(Enumerable.Range(1, seen.Count).Select(id => (long)id), seen.Select(e => e.Id));
        Assert.Equal("run.completed", seen[^1].Name);
    }

    [Fact]
    public async Task TheStoreAwayLongerThanTheLease_StopsTheRun_WhichEndsInterrupted_NotSilently()
    {
        var (seen, _) = await RunThroughRefusalsAsync(refusals: 1_000, leaseSeconds: "2");

        Assert.Equal("run.failed", seen[^1].Name);
        Assert.Equal("interrupted", seen[^1].Data["status"]!.GetValue<string>());
        Assert.Equal(RunEnder.NotStored, seen[^1].Data["error"]!["message"]!.GetValue<string>());
    }

    /// <summary>A long run whose store refuses <paramref name="refusals"/> appends in a row from its third token on.</summary>
    private async Task<(List<RunEventItem> Seen, FlakyRunStore Flaky)> RunThroughRefusalsAsync(int refusals, string leaseSeconds)
    {
        FlakyRunStore? flaky = null;
        var settings = Settings();
        settings["Gateway:Cluster:LeaseSeconds"] = leaseSeconds;
        await using var gateway = await GatewayHost.StartAsync(settings, services =>
        {
            services.AddSingleton<Gateway.Storage.SqliteRunStore>();
            services.AddSingleton<IRunStore>(provider => flaky = new FlakyRunStore(provider.GetRequiredService<Gateway.Storage.SqliteRunStore>()));
        });
        using var response = await gateway.Client.SendAsync(RunClient.Request("/api/runs", LongRun), HttpCompletionOption.ResponseHeadersRead);
        var seen = new List<RunEventItem>();
        await foreach (var item in RunClient.ReadAsync(response))
        {
            seen.Add(item);
            if (item.Name == "token" && seen.Count(e => e.Name == "token") == 3)
            {
                flaky!.RefuseNextAppends(refusals);
            }
        }

        return (seen, flaky!);
    }

    private static async Task<List<RunEventItem>> ReplayAsync(GatewayHost gateway, string runId)
    {
        using var replay = await RunClient.WatchAsync(gateway.Client, runId, lastEventId: 0);
        return await RunClient.ReadAllAsync(replay);
    }

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        GatewayHost.DeleteDatabase(_database);
    }
}
