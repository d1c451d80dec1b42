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
            services.AddFlakyRunStore<Gateway.Storage.SqliteRunStore>(inner => flaky = new FlakyRunStore(inner));
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

    /// <summary>
    /// A store that refuses writes for a moment: PostgreSQL in a failover (a transient error), or SQLite on a disk full
    /// or read-only for a moment (until 2026-12-07 such a moment, even 1.5 s of a full disk, interrupted every run under
    /// way, though the same error answers a request 503 "try again shortly").
    /// </summary>
    [Theory]
    [InlineData("failover")]
    [InlineData("disk full")]
    [InlineData("read-only")]
    public async Task TheStoreRefusingWritesForAMoment_TheRunTriesAgainAndCompletes_WithNoEventLost(string refusal)
    {
        Func<Exception> refused = refusal switch
        {
            "failover" => static () => new FlakyRunStore.FailoverException(),
            "disk full" => static () => new SqliteException("SQLite Error 13: 'database or disk is full'.", Gateway.Storage.StoreErrors.SqliteFull),
            _ => static () => new SqliteException("SQLite Error 8: 'attempt to write a readonly database'.", Gateway.Storage.StoreErrors.SqliteReadOnly),
        };
        FlakyRunStore? flaky = null;
        await using var gateway = await GatewayHost.StartAsync(Settings(), services =>
        {
            services.AddFlakyRunStore<Gateway.Storage.SqliteRunStore>(inner => flaky = new FlakyRunStore(inner));
        });
        var response = await gateway.Client.SendAsync(RunClient.Request("/api/runs", LongRun), HttpCompletionOption.ResponseHeadersRead);
        var seen = new List<RunEventItem>();
        await foreach (var item in RunClient.ReadAsync(response))
        {
            seen.Add(item);
            if (item.Name == "token" && seen.Count(e => e.Name == "token") == 3)
            {
                flaky!.RefuseNextAppends(3, refused);
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
        var (seen, flaky, _) = await RunThroughRefusalsAsync(refusals: 6, leaseSeconds: "30");

        Assert.Equal(6, flaky.Refused);
        Assert.Equal(Enumerable.Range(1, seen.Count).Select(id => (long)id), seen.Select(e => e.Id));
        Assert.Equal("run.completed", seen[^1].Name);
    }

    [Fact]
    public async Task TheStoreAwayLongerThanTheLease_StopsTheRun_WhichEndsInterrupted_NotSilently()
    {
        var (seen, _, runsEnded) = await RunThroughRefusalsAsync(refusals: 1_000, leaseSeconds: "2");

        Assert.Equal("run.failed", seen[^1].Name);
        Assert.Equal("interrupted", seen[^1].Data["status"]!.GetValue<string>());
        Assert.Equal(RunEnder.NotStored, seen[^1].Data["error"]!["message"]!.GetValue<string>());
        // Counted as it ended (until 2026-12-07 a run ended so was in no gateway_runs_total series).
        Assert.Equal(["interrupted"], runsEnded);
    }

    /// <summary>
    /// The store gone under a run for good (a SQLite file deleted, a disk that stays full): its watcher is told the run's
    /// end once the run has waited for the store as long as it may, twice (its writes, then its end), not left with
    /// keep-alives until the gateway restarts (until 2026-12-07); and once the store is back, the end stored is the one
    /// the watcher was told.
    /// </summary>
    [Fact]
    public async Task TheStoreGoneUnderARun_ItsWatcherIsStillToldItsEnd_WhichIsStoredOnceTheStoreIsBack()
    {
        FlakyRunStore? flaky = null;
        var settings = Settings();
        settings["Gateway:Cluster:LeaseSeconds"] = "3"; // two seconds of waiting for the store, twice
        var logs = new CapturedLogs();
        await using var gateway = await GatewayHost.StartAsync(settings, services =>
        {
            services.AddFlakyRunStore<Gateway.Storage.SqliteRunStore>(inner => flaky = new FlakyRunStore(inner));
            services.AddSingleton<Microsoft.Extensions.Logging.ILoggerProvider>(logs);
        });
        using var response = await gateway.Client.SendAsync(RunClient.Request("/api/runs", LongRun), HttpCompletionOption.ResponseHeadersRead);
        var runId = response.Headers.GetValues(RunLauncher.RunIdHeader).Single();
        var seen = new List<RunEventItem>();
        var reading = Task.Run(async () =>
        {
            await foreach (var item in RunClient.ReadAsync(response))
            {
                lock (seen)
                {
                    seen.Add(item);
                }

                if (item.Name == "token" && seen.Count(e => e.Name == "token") == 3)
                {
                    flaky!.Gone = true;
                }
            }
        });

        await reading.WaitAsync(TimeSpan.FromSeconds(30));
        flaky!.Gone = false;

        Assert.Equal(Enumerable.Range(1, seen.Count).Select(id => (long)id), seen.Select(e => e.Id));
        Assert.Equal("run.failed", seen[^1].Name);
        Assert.Equal("interrupted", seen[^1].Data["status"]!.GetValue<string>());
        Assert.Equal(RunEnder.NotStored, seen[^1].Data["error"]!["message"]!.GetValue<string>());
        var store = gateway.Services.GetRequiredService<Gateway.Storage.SqliteRunStore>();
        RunEventEntry? storedEnd = null;
        for (var i = 0; i < 100 && storedEnd is null; i++)
        {
            await Task.Delay(100);
            var stored = await store.GetEventsAsync(runId, seen.Count - 1, CancellationToken.None);
            storedEnd = stored.Count > 0 ? stored[^1] : null;
        }

        Assert.NotNull(storedEnd);
        Assert.Equal((seen[^1].Id, seen[^1].Name, seen[^1].Data.ToJsonString()), (storedEnd.Id, storedEnd.Name, System.Text.Json.Nodes.JsonNode.Parse(storedEnd.Data)!.ToJsonString()));
        Assert.Equal("interrupted", (await store.GetAsync(runId, CancellationToken.None))!.Status);
        // The lease renewals (every second here) failed while the store was away: one line each with the reason, as the
        // run's own retries are, not a stack trace each (until 2026-12-07).
        var renewals = logs.Lines.Where(line => line.Category == typeof(RunLeases).FullName).ToList();
        Assert.NotEmpty(renewals);
        Assert.All(renewals, line =>
        {
            Assert.StartsWith("Renewing the leases of replica", line.Message, StringComparison.Ordinal);
            Assert.EndsWith("failed, the store being unavailable (SQLite Error 14: 'unable to open database file'.); retrying", line.Message, StringComparison.Ordinal);
            Assert.Null(line.Exception);
        });
    }

    /// <summary>
    /// A burst of events the store commits but whose answer is lost (the connection cut after the commit): a transient
    /// error is tried again, finds the burst's first event in the log, and goes on, so each event is stored and sent
    /// once; any other error stops the run, whose end takes the id after the burst, stored and sent as the store has it.
    /// </summary>
    [Theory]
    [InlineData(true, "run.completed")]
    [InlineData(false, "run.failed")]
    public async Task ABurstStoredWhoseAnswerIsLost_IsNeitherStoredTwiceNorLost(bool transient, string end)
    {
        var (gateway, flaky) = await StartBurstingAsync();
        await using var _ = gateway;
        var lost = 0;
        flaky.AfterEvents = entries => entries.Count >= 3 && Interlocked.Exchange(ref lost, 1) == 0
            ? throw (transient ? new FlakyRunStore.FailoverException() : new InvalidOperationException("The answer was lost."))
            : Task.CompletedTask;

        using var response = await gateway.Client.SendAsync(RunClient.Request("/api/runs", LongRun), HttpCompletionOption.ResponseHeadersRead);
        var runId = response.Headers.GetValues(RunLauncher.RunIdHeader).Single();
        var seen = await RunClient.ReadAllAsync(response);

        Assert.Equal(1, lost);
        Assert.Equal(Enumerable.Range(1, seen.Count).Select(id => (long)id), seen.Select(e => e.Id));
        Assert.Single(seen, e => RunClient.TerminalEvents.Contains(e.Name));
        Assert.Equal(end, seen[^1].Name);
        Assert.Equal(RunClient.Lines(seen), RunClient.Lines(await ReplayAsync(gateway, runId)));
    }

    /// <summary>
    /// Another replica takes the run over and ends it while a burst of its events is on its way to the store: before
    /// the burst is written (its first id is then taken), or after it committed and lost its answer (its retry finds it
    /// done, the next write finds the end). Either way the watcher here gets the other replica's end, with no gap, no
    /// event twice, and what it got is what the store holds.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task AnotherReplicaEndsTheRunWhileABurstIsOnItsWay_TheWatcherGetsThatEnd_AsStored(bool afterTheCommit)
    {
        var (gateway, flaky) = await StartBurstingAsync();
        await using var _ = gateway;
        var stored = gateway.Services.GetRequiredService<Gateway.Storage.SqliteRunStore>();
        var ender = gateway.Services.GetRequiredService<RunEnder>();
        string? runId = null;
        flaky.OnRunWrite = id => runId = id;
        var endedBy = 0;
        async Task EndElsewhere(IReadOnlyList<RunEventEntry> entries)
        {
            if (entries.Count >= 3 && Interlocked.Exchange(ref endedBy, 1) == 0)
            {
                await ender.EndAsync((await stored.GetAsync(runId!, CancellationToken.None))!, RunEnder.ReplicaStopped, CancellationToken.None);
                if (afterTheCommit)
                {
                    throw new FlakyRunStore.FailoverException();
                }
            }
        }

        if (afterTheCommit)
        {
            flaky.AfterEvents = EndElsewhere;
        }
        else
        {
            flaky.BeforeEvents = EndElsewhere;
        }

        using var response = await gateway.Client.SendAsync(RunClient.Request("/api/runs", LongRun), HttpCompletionOption.ResponseHeadersRead);
        var seen = await RunClient.ReadAllAsync(response);

        Assert.Equal(1, endedBy);
        Assert.Equal(Enumerable.Range(1, seen.Count).Select(id => (long)id), seen.Select(e => e.Id));
        Assert.Single(seen, e => RunClient.TerminalEvents.Contains(e.Name));
        Assert.Equal(RunEnder.ReplicaStopped, seen[^1].Data["error"]!["message"]!.GetValue<string>());
        Assert.Equal(RunClient.Lines(seen), RunClient.Lines(await ReplayAsync(gateway, runId!)));
    }

    /// <summary>A gateway whose model sends at once and whose store takes 2 ms a write, so events are stored in bursts.</summary>
    private async Task<(GatewayHost Gateway, FlakyRunStore Flaky)> StartBurstingAsync()
    {
        FlakyRunStore? flaky = null;
        var settings = GatewayHost.SimulatedSettings(tokenDelayMs: 0);
        settings[GatewayHost.StorageKey] = GatewayHost.ConnectionString(_database);
        var gateway = await GatewayHost.StartAsync(settings, services =>
        {
            services.AddFlakyRunStore<Gateway.Storage.SqliteRunStore>(inner => flaky = new FlakyRunStore(inner)
            {
                EventsWriteDelay = TimeSpan.FromMilliseconds(2),
            });
        });
        _ = gateway.Services.GetRequiredService<IRunStore>();
        return (gateway, flaky!);
    }

    /// <summary>A long run whose store refuses <paramref name="refusals"/> appends in a row from its third token on.</summary>
    /// <returns>What the watcher saw, the store, and the statuses <c>gateway_runs_total</c> counted, one per run ended.</returns>
    private async Task<(List<RunEventItem> Seen, FlakyRunStore Flaky, List<string> RunsEnded)> RunThroughRefusalsAsync(int refusals, string leaseSeconds)
    {
        FlakyRunStore? flaky = null;
        var settings = Settings();
        settings["Gateway:Cluster:LeaseSeconds"] = leaseSeconds;
        await using var gateway = await GatewayHost.StartAsync(settings, services =>
        {
            services.AddFlakyRunStore<Gateway.Storage.SqliteRunStore>(inner => flaky = new FlakyRunStore(inner));
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

        // The run is counted as its task ends, just after its terminal event went out.
        var runsEnded = new List<string>();
        for (var i = 0; i < 50 && runsEnded.Count == 0; i++)
        {
            await Task.Delay(i == 0 ? 0 : 100);
            var (_, samples) = await Exposition.ScrapeAsync(gateway);
            runsEnded = [.. Exposition.Of(samples, "gateway_runs_total").SelectMany(sample =>
                Enumerable.Repeat(System.Text.RegularExpressions.Regex.Match(sample.Key, "gateway_run_status=\"([a-z]+)\"").Groups[1].Value, (int)sample.Value))];
        }

        return (seen, flaky!, runsEnded);
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
