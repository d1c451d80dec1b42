using System.Net;
using Gateway.Hosting;
using Gateway.Runs;
using Gateway.Storage;
using Gateway.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Gateway.Tests.Storage;

public sealed class SqliteStoreTests
{
    [Fact]
    public async Task ManyConcurrentRuns_AllCompleteWithWholeEventLogs()
    {
        await using var gateway = await GatewayHost.StartAsync(GatewayHost.SimulatedSettings(tokenDelayMs: 1));
        const string body = """
            {"flow":{"id":"busy","nodes":[{"id":"in","type":"input"},
              {"id":"a","type":"llm","model":"lorem","prompt":"in","maxTokens":20},
              {"id":"b","type":"llm","model":"echo","prompt":"in"},
              {"id":"out","type":"output","from":["a","b"]}]},"input":"many runs at once"}
            """;

        var responses = await Task.WhenAll(Enumerable.Range(0, 16).Select(_ => gateway.Client.PostAsync("/api/runs", Json.Body(body))));

        var store = gateway.Services.GetRequiredService<IRunStore>();
        foreach (var response in responses)
        {
            using (response)
            {
                var record = await Json.ReadAsync(response);
                Assert.Equal("completed", record["status"]!.GetValue<string>());
                var events = await store.GetEventsAsync(record["runId"]!.GetValue<string>(), 0, CancellationToken.None);
                Assert.Equal(Enumerable.Range(1, events.Count).Select(i => (long)i), events.Select(e => e.Id));
                Assert.Equal("run.completed", events[^1].Name);
            }
        }

        using var listed = await gateway.Client.GetAsync("/api/runs?flowId=busy&limit=100");
        Assert.Equal(16, (await Json.ReadAsync(listed)).AsArray().Count);
    }

    /// <summary>
    /// A file damaged while the gateway was down: once it serves, its pages are read for damage, and it says so in its
    /// log and is not ready. Until 2026-12-07 a restart on a damaged file said ready until a run met a damaged page.
    /// </summary>
    [Fact]
    public async Task AFileDamagedBeforeTheStart_IsFoundOnceTheGatewayServes_NotReady_AndLogged()
    {
        var database = GatewayHost.NewDatabasePath();
        try
        {
            using (var made = new SqliteDatabase(Options.Create(new StorageOptions { ConnectionString = GatewayHost.ConnectionString(database) })))
            {
                await new SqliteSchema(made).MigrateAsync(CancellationToken.None);
                await made.WriteAsync((connection, _) => ExecuteAsync(connection,
                    "CREATE TABLE blobs (data BLOB); WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 400) INSERT INTO blobs SELECT randomblob(1000) FROM n;"),
                    CancellationToken.None);
                await made.ExecuteOutsideTransactionAsync(connection => ExecuteAsync(connection, "PRAGMA wal_checkpoint(TRUNCATE);"), CancellationToken.None);
            }

            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            await using (var file = new FileStream(database, FileMode.Open, FileAccess.Write, FileShare.ReadWrite))
            {
                // Past the header and the schema's pages, into the table's: nothing the gateway reads at start-up.
                file.Position = 16 * 4096;
                file.Write(System.Security.Cryptography.RandomNumberGenerator.GetBytes(64 * 4096));
            }

            var settings = GatewayHost.SimulatedSettings();
            settings[GatewayHost.StorageKey] = GatewayHost.ConnectionString(database);
            var logs = new CapturedLogs();
            await using var gateway = await GatewayHost.StartAsync(settings, services => services.AddSingleton<Microsoft.Extensions.Logging.ILoggerProvider>(logs));

            var damaged = await logs.WaitForAsync(line => line.Category == typeof(SqliteDamageCheck).FullName, TimeSpan.FromSeconds(20));
            using var ready = await gateway.Client.GetAsync("/readyz");

            Assert.Equal(Microsoft.Extensions.Logging.LogLevel.Error, damaged.Level);
            Assert.StartsWith($"SQLite '{database}' is damaged (quick_check: ", damaged.Message, StringComparison.Ordinal);
            Assert.EndsWith("restore it from a backup, then restart the gateway. Until then it is not ready, and writes are refused", damaged.Message, StringComparison.Ordinal);
            Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            GatewayHost.DeleteDatabase(database);
        }
    }

    /// <summary>An undamaged file passes the check without a word above Debug.</summary>
    [Fact]
    public async Task AnUndamagedFile_PassesTheCheck_AndStaysReady()
    {
        var logs = new CapturedLogs();
        await using var gateway = await GatewayHost.StartAsync(GatewayHost.SimulatedSettings(), services => services.AddSingleton<Microsoft.Extensions.Logging.ILoggerProvider>(logs));

        var database = gateway.Services.GetRequiredService<SqliteDatabase>();
        var damage = await database.CheckForDamageAsync(CancellationToken.None);
        // The start's own check, over by now.
        await gateway.Services.GetServices<Microsoft.Extensions.Hosting.IHostedService>().OfType<SqliteDamageCheck>().Single().ExecuteTask!.WaitAsync(TimeSpan.FromSeconds(20));
        using var ready = await gateway.Client.GetAsync("/readyz");

        Assert.Null(damage);
        Assert.Null(database.Damage);
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        Assert.DoesNotContain(logs.Lines, line => line.Category == typeof(SqliteDamageCheck).FullName);
    }

    private static async Task ExecuteAsync(Microsoft.Data.Sqlite.SqliteConnection connection, string sql)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync();
    }

    [Fact]
    public async Task DatabaseInAFolderThatDoesNotExistYet_IsCreated_AndReadyzIsHealthy()
    {
        var folder = Path.Combine(Path.GetTempPath(), $"gateway-test-{Guid.NewGuid():N}", "nested");
        var settings = GatewayHost.SimulatedSettings();
        settings[GatewayHost.StorageKey] = GatewayHost.ConnectionString(Path.Combine(folder, "gateway.db"));
        try
        {
            await using var gateway = await GatewayHost.StartAsync(settings);

            using var ready = await gateway.Client.GetAsync("/readyz");
            Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
            Assert.Equal("Healthy", await ready.Content.ReadAsStringAsync());
            Assert.True(File.Exists(Path.Combine(folder, "gateway.db")));
        }
        finally
        {
            Directory.Delete(Path.GetDirectoryName(folder)!, recursive: true);
        }
    }

    [Fact]
    public async Task ASecondGatewayOnTheSameFile_IsRefused_AndTheFirstRunsOn()
    {
        var database = GatewayHost.NewDatabasePath();
        var settings = GatewayHost.SimulatedSettings(tokenDelayMs: 20);
        settings[GatewayHost.StorageKey] = GatewayHost.ConnectionString(database);
        try
        {
            await using var first = await GatewayHost.StartAsync(settings);
            // Four seconds of tokens: still running when the second gateway has set its store up.
            var runId = await RunClient.StartInBackgroundAsync(first.Client, """
                {"flow":{"nodes":[{"id":"in","type":"input"},{"id":"talk","type":"llm","model":"lorem","prompt":"in","maxTokens":200},
                                  {"id":"out","type":"output","from":["talk"]}]},"input":"x"}
                """);

            // As a rolling deploy would start the next process before the last one has drained.
            var exception = await Assert.ThrowsAsync<StartupRefusedException>(() => GatewayHost.StartAsync(settings));

            Assert.Contains("is in use by another gateway process", exception.Message, StringComparison.Ordinal);
            Assert.Contains("Gateway:Storage:Provider=postgres", exception.Message, StringComparison.Ordinal);
            // Before the lock the second process took every running run for cut off and ended it interrupted.
            using var watch = await RunClient.WatchAsync(first.Client, runId);
            var events = await RunClient.ReadAllAsync(watch);
            Assert.Equal("run.completed", events[^1].Name);
            Assert.Equal(200, events.Count(e => e.Name == "token"));
        }
        finally
        {
            GatewayHost.DeleteDatabase(database);
        }
    }

    [Fact]
    public async Task TheProcess_OnAFileAnotherHolds_ExitsWith1_SayingSoOnce()
    {
        var database = GatewayHost.NewDatabasePath();
        var settings = GatewayHost.SimulatedSettings();
        settings[GatewayHost.StorageKey] = GatewayHost.ConnectionString(database);
        try
        {
            await using var first = await GatewayProcess.StartAsync(settings);

            var exception = await Assert.ThrowsAsync<InvalidOperationException>(() => GatewayProcess.StartAsync(settings));

            Assert.Contains("exited with 1:", exception.Message, StringComparison.Ordinal);
            Assert.Contains("is in use by another gateway process", exception.Message, StringComparison.Ordinal);
            Assert.DoesNotContain("Hosting failed to start", exception.Message, StringComparison.Ordinal);
        }
        finally
        {
            GatewayHost.DeleteDatabase(database);
        }
    }

    [Fact]
    public async Task ReadyzIsUnhealthy_AndWritesAre503s_OnceTheDatabaseFileIsGone_EvenAfterACopyIsPutBack()
    {
        var folder = Path.Combine(Path.GetTempPath(), $"gateway-test-{Guid.NewGuid():N}");
        var database = Path.Combine(folder, "gateway.db");
        var settings = GatewayHost.SimulatedSettings();
        settings[GatewayHost.StorageKey] = GatewayHost.ConnectionString(database);
        // A finished run's log is let go at once: a cancel of it then asks the store.
        settings["Gateway:Streaming:EventRetentionMinutes"] = "0";
        await using var gateway = await GatewayHost.StartAsync(settings);
        using (var before = await gateway.Client.GetAsync("/readyz"))
        {
            Assert.Equal(HttpStatusCode.OK, before.StatusCode);
        }

        using var ran = await gateway.Client.PostAsync("/api/runs", Json.Body("""
            {"flow":{"nodes":[{"id":"in","type":"input"},{"id":"out","type":"output","from":["in"]}]},"input":"x"}
            """));
        var runId = (await Json.ReadAsync(ran))["runId"]!.GetValue<string>();
        // A backup as SQLite takes one: the write-ahead log's pages included.
        var copy = Path.Combine(Path.GetTempPath(), $"gateway-test-{Guid.NewGuid():N}.db");
        await using (var source = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={database};Pooling=False"))
        await using (var backup = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={copy};Pooling=False"))
        {
            await source.OpenAsync();
            await backup.OpenAsync();
            source.BackupDatabase(backup);
        }

        // The pooled connections still hold the deleted file open, and writes to it would be lost at the next start.
        Directory.Delete(folder, recursive: true);

        using (var after = await gateway.Client.GetAsync("/readyz"))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, after.StatusCode);
        }

        // Until 2026-12-06: 201, into the deleted file, and gone at the next start.
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await SaveFlowAsync(gateway, "into-the-void")).StatusCode);
        // A failure about a run names it, from the path's route values (which the exception handler clears).
        using (var cancel = await gateway.Client.PostAsync($"/api/runs/{runId}/cancel", null))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, cancel.StatusCode);
            Assert.Equal(runId, cancel.Headers.GetValues(RunLauncher.RunIdHeader).Single());
        }

        // A copy put back is not the file the connections and the old write-ahead log hold: still refused until a restart.
        Directory.CreateDirectory(folder);
        File.Move(copy, database);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await SaveFlowAsync(gateway, "into-the-copy")).StatusCode);
        using var readyAfterTheCopy = await gateway.Client.GetAsync("/readyz");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, readyAfterTheCopy.StatusCode);
    }

    /// <summary>
    /// A backup put back under the running gateway the usual way, a copy moved over the file (<c>mv backup.db
    /// gateway.db</c>), is refused as a deleted file is. Until 2026-12-07 it was not seen: the readiness probe, opening
    /// the copy, wrote the pool's write-ahead log into it; runs in the file then answered 404, and new runs 200 and were
    /// gone at the next start, while /readyz said ready.
    /// </summary>
    /// <param name="askedBeforeTheStop">Whether a request reaches the store between the swap and the stop; without one
    /// the stop itself finds the file gone (until 2026-12-07, later: its log stayed for the restart to apply).</param>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task ACopyMovedOverTheFile_IsRefusedUntilARestart_AsADeletedFileIs(bool askedBeforeTheStop)
    {
        var folder = Path.Combine(Path.GetTempPath(), $"gateway-test-{Guid.NewGuid():N}");
        var database = Path.Combine(folder, "gateway.db");
        var settings = GatewayHost.SimulatedSettings();
        settings[GatewayHost.StorageKey] = GatewayHost.ConnectionString(database);
        settings["Gateway:Streaming:EventRetentionMinutes"] = "0"; // a run is read back from the store
        try
        {
            string before, after;
            await using (var gateway = await GatewayHost.StartAsync(settings))
            {
                before = await RunAsync(gateway);
                var copy = Path.Combine(folder, "backup.db");
                await using (var source = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={database};Pooling=False"))
                await using (var backup = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={copy};Pooling=False"))
                {
                    await source.OpenAsync();
                    await backup.OpenAsync();
                    source.BackupDatabase(backup);
                }

                after = await RunAsync(gateway);

                File.Move(copy, database, overwrite: true);

                if (askedBeforeTheStop)
                {
                    using var ready = await gateway.Client.GetAsync("/readyz");
                    Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
                    foreach (var runId in new[] { before, after })
                    {
                        using var read = await gateway.Client.GetAsync($"/api/runs/{runId}");
                        Assert.Equal(HttpStatusCode.ServiceUnavailable, read.StatusCode);
                    }

                    Assert.Equal(HttpStatusCode.ServiceUnavailable, (await SaveFlowAsync(gateway, "into-the-old-file")).StatusCode);
                }
            }

            // Restarted, as the refusal says: the copy is served as it was taken, not paired with the old file's
            // write-ahead log (until 2026-12-07 its pages were applied over the copy: the run written after the backup
            // back from the old file, or a malformed database).
            await using var restarted = await GatewayHost.StartAsync(settings);
            using (var readyAgain = await restarted.Client.GetAsync("/readyz"))
            {
                Assert.Equal(HttpStatusCode.OK, readyAgain.StatusCode);
            }

            using (var kept = await restarted.Client.GetAsync($"/api/runs/{before}"))
            {
                Assert.Equal(HttpStatusCode.OK, kept.StatusCode);
            }

            using (var notInTheCopy = await restarted.Client.GetAsync($"/api/runs/{after}"))
            {
                Assert.Equal(HttpStatusCode.NotFound, notInTheCopy.StatusCode);
            }

            Assert.Single(Directory.GetFiles(folder, "gateway.db-wal.left-*"));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    /// <summary>
    /// A file deleted under a running run is not waited for as a full disk is: nothing but a restart brings it back.
    /// The watcher is told the run's end at once (until 2026-12-07 the run waited out its store patience, 20 s here,
    /// and its end as long again: the watcher heard keep-alives for 40 s).
    /// </summary>
    [Fact]
    public async Task TheFileDeletedUnderARun_ItsWatcherIsToldItsEndAtOnce()
    {
        var folder = Path.Combine(Path.GetTempPath(), $"gateway-test-{Guid.NewGuid():N}");
        var settings = GatewayHost.SimulatedSettings(tokenDelayMs: 50);
        settings[GatewayHost.StorageKey] = GatewayHost.ConnectionString(Path.Combine(folder, "gateway.db"));
        try
        {
            var logs = new CapturedLogs();
            await using var gateway = await GatewayHost.StartAsync(settings, services => services.AddSingleton<Microsoft.Extensions.Logging.ILoggerProvider>(logs));
            using var response = await gateway.Client.SendAsync(RunClient.Request("/api/runs", RunClient.LoremRun(maxTokens: 400)), HttpCompletionOption.ResponseHeadersRead);
            var seen = new List<RunEventItem>();
            var deletedAt = 0L;
            await foreach (var item in RunClient.ReadAsync(response).WithCancellation(new CancellationTokenSource(TimeSpan.FromSeconds(60)).Token))
            {
                seen.Add(item);
                if (item.Name == "token" && deletedAt == 0)
                {
                    Directory.Delete(folder, recursive: true);
                    deletedAt = System.Diagnostics.Stopwatch.GetTimestamp();
                }
            }

            Assert.Equal("run.failed", seen[^1].Name);
            Assert.Equal("interrupted", seen[^1].Data["status"]!.GetValue<string>());
            Assert.InRange(System.Diagnostics.Stopwatch.GetElapsedTime(deletedAt), TimeSpan.Zero, TimeSpan.FromSeconds(10));
            // Why it stopped, once, without a stack trace: a store away is a known condition, not a crash.
            var stopped = Assert.Single(logs.Lines, line => line.Category == "Gateway.Runs.LiveRuns" && line.Level == Microsoft.Extensions.Logging.LogLevel.Error);
            Assert.Null(stopped.Exception);
            Assert.Contains("stopped: its store is unavailable (The SQLite file", stopped.Message, StringComparison.Ordinal);
        }
        finally
        {
            if (Directory.Exists(folder))
            {
                Directory.Delete(folder, recursive: true);
            }
        }
    }

    private static async Task<string> RunAsync(GatewayHost gateway)
    {
        using var ran = await gateway.Client.PostAsync("/api/runs", Json.Body("""
            {"flow":{"nodes":[{"id":"in","type":"input"},{"id":"out","type":"output","from":["in"]}]},"input":"x"}
            """));
        Assert.Equal(HttpStatusCode.OK, ran.StatusCode);
        return (await Json.ReadAsync(ran))["runId"]!.GetValue<string>();
    }

    /// <summary>
    /// Once the pool has let its connections go, a read opens a new one, which made an empty file at the deleted
    /// file's path; every read was then a 500 ("no such table"). Until 2026-12-06 (later): reads were not refused.
    /// </summary>
    [Fact]
    public async Task AfterTheDatabaseFileIsDeleted_ReadsAre503s_AndMakeNoEmptyFileInItsPlace()
    {
        var database = GatewayHost.NewDatabasePath();
        var settings = GatewayHost.SimulatedSettings();
        settings[GatewayHost.StorageKey] = GatewayHost.ConnectionString(database);
        await using var gateway = await GatewayHost.StartAsync(settings);
        Assert.Equal(HttpStatusCode.Created, (await SaveFlowAsync(gateway, "before")).StatusCode);

        foreach (var file in new[] { database, database + "-wal", database + "-shm" }.Where(File.Exists))
        {
            File.Delete(file);
        }

        // What an idle pool does after a while: the connections holding the deleted file are closed.
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        using var listed = await gateway.Client.GetAsync("/api/flows");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, listed.StatusCode);
        // Until 2026-12-07: "Retry shortly" and Retry-After: 2, which a client followed for as long as no one restarted it.
        Assert.False(listed.Headers.Contains("Retry-After"));
        Assert.Equal(
            "The gateway's store cannot be used until the gateway is restarted: waiting will not bring it back.",
            (await Json.ReadAsync(listed))["detail"]!.GetValue<string>());
        Assert.False(File.Exists(database), "a read made an empty file where the database was");
    }

    private static Task<HttpResponseMessage> SaveFlowAsync(GatewayHost gateway, string id) =>
        gateway.Client.PostAsync("/api/flows", Json.Body($$"""
            {"id":"{{id}}","nodes":[{"id":"in","type":"input"},{"id":"out","type":"output","from":["in"]}]}
            """));

    [Fact]
    public async Task ReadyzAnswers_WhenTheStoreDoesNotAnswer_WithinTheChecksTimeout()
    {
        HangingSchema? schema = null;
        await using var gateway = await GatewayHost.StartAsync(GatewayHost.SimulatedSettings(), services =>
        {
            services.AddSingleton<SqliteSchema>();
            services.AddSingleton<IStoreSchema>(provider => schema = new HangingSchema(provider.GetRequiredService<SqliteSchema>()));
        });
        schema!.Hang = true;
        var clock = System.Diagnostics.Stopwatch.StartNew();

        using var ready = await gateway.Client.GetAsync("/readyz");

        // Until 2026-12-06 a stalled PostgreSQL held the first probe for 40 s.
        Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
        Assert.InRange(clock.Elapsed, StorageHealthCheck.Timeout - TimeSpan.FromSeconds(0.5), StorageHealthCheck.Timeout + TimeSpan.FromSeconds(5));
    }

    /// <summary>The real schema, whose reads for /readyz wait, when told to, for as long as they are let: a stalled database.</summary>
    private sealed class HangingSchema(IStoreSchema inner) : IStoreSchema
    {
        public bool Hang { get; set; }

        public string Description => inner.Description;

        public int Version => inner.Version;

        public Task MigrateAsync(CancellationToken cancellationToken) => inner.MigrateAsync(cancellationToken);

        public async Task<int> ReadVersionAsync(CancellationToken cancellationToken)
        {
            if (Hang)
            {
                await Task.Delay(Timeout.Infinite, cancellationToken);
            }

            return await inner.ReadVersionAsync(cancellationToken);
        }

        public Task<string?> WriteRefusalAsync(CancellationToken cancellationToken) => inner.WriteRefusalAsync(cancellationToken);
    }

    [Fact]
    public async Task AConnectionStringNamingTheFileAsAUri_Works()
    {
        var database = GatewayHost.NewDatabasePath();
        var settings = GatewayHost.SimulatedSettings();
        settings[GatewayHost.StorageKey] = $"Data Source=file:{database}";
        try
        {
            await using var gateway = await GatewayHost.StartAsync(settings);

            Assert.Equal(HttpStatusCode.Created, (await SaveFlowAsync(gateway, "by-uri")).StatusCode);
        }
        finally
        {
            GatewayHost.DeleteDatabase(database);
        }
    }

    [Fact]
    public async Task AStoreFaultNoWaitCures_IsA500_NotAnInvitationToRetry()
    {
        var database = GatewayHost.NewDatabasePath();
        var settings = GatewayHost.SimulatedSettings();
        settings[GatewayHost.StorageKey] = GatewayHost.ConnectionString(database);
        await using var gateway = await GatewayHost.StartAsync(settings);
        await using (var outside = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={database};Pooling=False"))
        {
            await outside.OpenAsync();
            await using var rename = outside.CreateCommand();
            rename.CommandText = "ALTER TABLE runs RENAME TO runs_gone;";
            await rename.ExecuteNonQueryAsync();
        }

        using var listed = await gateway.Client.GetAsync("/api/runs");

        Assert.Equal(HttpStatusCode.InternalServerError, listed.StatusCode);
    }

    [Fact]
    public async Task WhileAnotherProcessHoldsTheWriteLock_ReadyzSaysSo_AndWritesAre503sWithinTheBusyTimeout_ThenWorkAgain()
    {
        var database = GatewayHost.NewDatabasePath();
        var settings = GatewayHost.SimulatedSettings();
        settings[GatewayHost.StorageKey] = GatewayHost.ConnectionString(database);
        await using var gateway = await GatewayHost.StartAsync(settings);
        // Another holder of the file's lock (a backup, the sqlite3 shell): a connection of the test's own.
        await using (var holder = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={database};Pooling=False"))
        {
            await holder.OpenAsync();
            await using (var exclusive = holder.CreateCommand())
            {
                exclusive.CommandText = "BEGIN EXCLUSIVE;";
                await exclusive.ExecuteNonQueryAsync();
            }

            using (var ready = await gateway.Client.GetAsync("/readyz"))
            {
                // Until 2026-12-06: 200 Healthy, from a read alone.
                Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
            }

            var clock = System.Diagnostics.Stopwatch.StartNew();
            var flow = gateway.Client.PostAsync("/api/flows", Json.Body("""
                {"id":"locked","nodes":[{"id":"in","type":"input"},{"id":"out","type":"output","from":["in"]}]}
                """));
            var run = gateway.Client.PostAsync("/api/runs", Json.Body("""
                {"flow":{"nodes":[{"id":"in","type":"input"},{"id":"out","type":"output","from":["in"]}]},"input":"x"}
                """));
            using var flowRefused = await flow;
            using var runRefused = await run;

            // Until 2026-12-06: a 500 after 30 s for the first, and 30 s more for each write queued behind it.
            Assert.InRange(clock.Elapsed, TimeSpan.Zero, SqliteDatabase.BusyTimeout * 2 + TimeSpan.FromSeconds(3));
            Assert.Equal(HttpStatusCode.ServiceUnavailable, flowRefused.StatusCode);
            Assert.Equal(HttpStatusCode.ServiceUnavailable, runRefused.StatusCode);
            // Until 2026-12-06 (later): no Retry-After, so clients retried at once into the same lock.
            Assert.Equal("2", runRefused.Headers.GetValues("Retry-After").Single());
            Assert.Equal("2000", runRefused.Headers.GetValues("retry-after-ms").Single());
            Assert.Equal(
                "The gateway's store cannot be used right now (busy, full or unreachable). Retry shortly.",
                (await Json.ReadAsync(runRefused))["detail"]!.GetValue<string>());
            // The run had its id before the store refused it: the answer names it, as the log line does.
            Assert.Matches("^run-[0-9a-f]{32}$", runRefused.Headers.GetValues(RunLauncher.RunIdHeader).Single());
        }

        using (var readyAgain = await gateway.Client.GetAsync("/readyz"))
        {
            Assert.Equal(HttpStatusCode.OK, readyAgain.StatusCode);
        }

        using var saved = await gateway.Client.PostAsync("/api/flows", Json.Body("""
            {"id":"unlocked","nodes":[{"id":"in","type":"input"},{"id":"out","type":"output","from":["in"]}]}
            """));
        Assert.Equal(HttpStatusCode.Created, saved.StatusCode);
    }

    [Fact]
    public async Task TheProcess_OnAFileWhosePagesAreDamaged_ExitsWith1_SayingSo_NotAnUnhandledException()
    {
        var database = GatewayHost.NewDatabasePath();
        var settings = GatewayHost.SimulatedSettings();
        settings[GatewayHost.StorageKey] = GatewayHost.ConnectionString(database);
        await using (var first = await GatewayHost.StartAsync(settings))
        {
            using var run = await first.Client.PostAsync("/api/runs", Json.Body("""
                {"flow":{"nodes":[{"id":"in","type":"input"},{"id":"out","type":"output","from":["in"]}]},"input":"x"}
                """));
            Assert.Equal(HttpStatusCode.OK, run.StatusCode);
        }

        try
        {
            // The header and the schema (page 1) intact, every table's pages noise: the store opens, then its first query fails.
            await using (var file = new FileStream(database, FileMode.Open, FileAccess.ReadWrite))
            {
                var noise = new byte[file.Length - 4096];
                new Random(7).NextBytes(noise);
                file.Position = 4096;
                await file.WriteAsync(noise);
            }

            var exception = await Assert.ThrowsAsync<InvalidOperationException>(() => GatewayProcess.StartAsync(settings));

            // Until 2026-12-06: "Store ready", then an unhandled exception and exit code 134.
            Assert.Contains("exited with 1:", exception.Message, StringComparison.Ordinal);
            Assert.Contains("The store failed while the gateway started:", exception.Message, StringComparison.Ordinal);
            // Until 2026-12-06 (later): no word of which store, or where it is set.
            Assert.Contains("Check the store Gateway:Storage:ConnectionString names", exception.Message, StringComparison.Ordinal);
            Assert.DoesNotContain("Unhandled exception", exception.Message, StringComparison.Ordinal);
        }
        finally
        {
            GatewayHost.DeleteDatabase(database);
        }
    }

    [Fact]
    public async Task AConnectionStringThatIsNotOne_StopsStartUpNamingTheKey()
    {
        var settings = GatewayHost.SimulatedSettings();
        settings[GatewayHost.StorageKey] = "gateway.db";

        var exception = await Assert.ThrowsAsync<StartupRefusedException>(() => GatewayHost.StartAsync(settings));

        Assert.StartsWith(
            "Gateway:Storage:ConnectionString is not a valid SQLite connection string (e.g. 'Data Source=gateway.db')",
            exception.Message,
            StringComparison.Ordinal);
    }

    [Fact]
    public async Task UnknownStorageProvider_StopsStartUpNamingTheKey()
    {
        var settings = GatewayHost.SimulatedSettings();
        settings["Gateway:Storage:Provider"] = "mongodb";

        var exception = await Assert.ThrowsAsync<OptionsValidationException>(() => GatewayHost.StartAsync(settings));

        Assert.Contains("Gateway:Storage:Provider must be 'sqlite' or 'postgres'.", exception.Message, StringComparison.Ordinal);
    }
}
