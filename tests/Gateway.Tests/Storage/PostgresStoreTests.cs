using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Gateway.Hosting;
using Gateway.Runs;
using Gateway.Storage;
using Gateway.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace Gateway.Tests.Storage;

/// <summary>What only the PostgreSQL store does: migrations that replicas race on, notifications, and the gateway on it.</summary>
public sealed class PostgresStoreTests
{
    private static readonly CancellationToken None = CancellationToken.None;

    [Fact]
    public async Task SixReplicasMigratingAFreshDatabaseAtOnce_AllSucceed_WithOneSetOfTables()
    {
        var connectionString = await PostgresServer.CreateDatabaseAsync();
        var databases = Enumerable.Range(0, 6).Select(_ => PostgresStoreContractTests.Open(connectionString)).ToArray();
        try
        {
            await Task.WhenAll(databases.Select(database => Task.Run(() => new PostgresSchema(database).MigrateAsync(None))));

            var schema = new PostgresSchema(databases[0]);
            Assert.Equal(schema.Version, await schema.ReadVersionAsync(None));
            Assert.Equal(
                Enumerable.Range(1, schema.Version),
                await QueryAsync(databases[0], "SELECT version FROM schema_version ORDER BY version;", reader => reader.GetInt32(0)));
            Assert.Equal(
                ["flows", "rate_buckets", "run_events", "runs", "schema_version"],
                await QueryAsync(databases[0], "SELECT table_name::text FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1;", reader => reader.GetString(0)));
        }
        finally
        {
            foreach (var database in databases)
            {
                await database.DisposeAsync();
            }
        }
    }

    /// <summary>
    /// An operator migrates with the database's owner and runs the gateway under a role that may only read and write
    /// its tables: start-up, with nothing left to migrate, must not need CREATE on the schema (it did, for
    /// <c>CREATE TABLE IF NOT EXISTS schema_version</c>, and every start was refused with "permission denied for schema public").
    /// </summary>
    [Fact]
    public async Task ADatabaseAlreadyMigrated_StartsUnderARoleThatMayOnlyReadAndWriteItsTables()
    {
        var connectionString = await PostgresServer.CreateDatabaseAsync();
        var role = $"gateway_rw_{Guid.NewGuid():N}";
        await using var owner = PostgresStoreContractTests.Open(connectionString);
        await new PostgresSchema(owner).MigrateAsync(None);
        await using (var grant = owner.DataSource.CreateCommand(
            $"""
            REVOKE CREATE ON SCHEMA public FROM PUBLIC;
            CREATE ROLE {role} LOGIN;
            GRANT USAGE ON SCHEMA public TO {role};
            GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role};
            """))
        {
            await grant.ExecuteNonQueryAsync();
        }

        try
        {
            await using var database = PostgresStoreContractTests.Open(new NpgsqlConnectionStringBuilder(connectionString) { Username = role }.ConnectionString);
            var schema = new PostgresSchema(database);

            await schema.MigrateAsync(None);

            Assert.Equal(schema.Version, await schema.ReadVersionAsync(None));
            var flows = new PostgresFlowStore(database);
            Assert.NotNull(await flows.TryCreateAsync(new Gateway.Flows.Flow { Id = "f", Nodes = [new Gateway.Flows.FlowNode { Id = "in", Type = "input" }] }, None));
            Assert.NotNull(await flows.GetAsync("f", None));
        }
        finally
        {
            NpgsqlConnection.ClearAllPools();
            await using var drop = owner.DataSource.CreateCommand($"DROP OWNED BY {role}; DROP ROLE {role};");
            await drop.ExecuteNonQueryAsync();
        }
    }

    [Fact]
    public async Task ADatabaseNewerThanTheBuild_IsRefused()
    {
        await using var database = await PostgresStoreContractTests.OpenDatabaseAsync();
        await QueryAsync(database, "INSERT INTO schema_version (version) VALUES (99) RETURNING version;", reader => reader.GetInt32(0));

        var exception = await Assert.ThrowsAsync<StartupRefusedException>(() => new PostgresSchema(database).MigrateAsync(None));

        Assert.Contains("has schema version 99, newer than this gateway's", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AppendEvent_NotifiesRunIdAndEventId_OnlyOnceCommitted()
    {
        await using var database = await PostgresStoreContractTests.OpenDatabaseAsync();
        await using var notices = new PostgresEventNotices(database, NullLogger<PostgresEventNotices>.Instance);
        var store = new PostgresRunStore(database, notices);
        await using var listener = await ListenAsync(database, PostgresChannels.RunEvents);
        var notifications = new List<string>();
        listener.Notification += (_, notification) => notifications.Add(notification.Payload);

        await store.AppendEventsAsync("run-1", [new RunEventEntry(1, "run.started", "{}")], null, None);
        await WaitForAsync(listener, () => notifications.Contains("run-1:1"));
        await Assert.ThrowsAsync<PostgresException>(() => store.AppendEventsAsync("run-1", [new RunEventEntry(1, "token", "{}")], null, None));
        await store.AppendEventsAsync("run-1", [new RunEventEntry(2, "token", "{}")], null, None);
        await WaitForAsync(listener, () => notifications.Contains("run-1:2"));

        // The rejected duplicate raised nothing.
        Assert.Equal(["run-1:1", "run-1:2"], notifications);
        Assert.Equal("gateway_run_events", PostgresChannels.RunEvents);
    }

    [Fact]
    public async Task Notices_RaisedFasterThanSent_GoOutAsOnePerRunWithItsNewestId_AndDisposalSendsWhatIsQueued()
    {
        await using var database = await PostgresStoreContractTests.OpenDatabaseAsync();
        await using var listener = await ListenAsync(database, PostgresChannels.RunEvents);
        var notifications = new List<string>();
        listener.Notification += (_, notification) => notifications.Add(notification.Payload);
        var notices = new PostgresEventNotices(database, NullLogger<PostgresEventNotices>.Instance);

        for (var id = 1; id <= 100; id++)
        {
            notices.Raise("run-a", id);
            notices.Raise("run-b", id);
        }

        await notices.DisposeAsync();
        await WaitForAsync(listener, () => notifications.Contains("run-a:100") && notifications.Contains("run-b:100"));

        // 200 events, a handful of notices: each send carries what piled up while the one before it was out.
        Assert.InRange(notifications.Count, 2, 10);
        foreach (var run in new[] { "run-a", "run-b" })
        {
            var ids = notifications.Where(payload => payload.StartsWith(run + ":", StringComparison.Ordinal)).Select(payload => int.Parse(payload[(run.Length + 1)..], CultureInfo.InvariantCulture)).ToList();
            Assert.Equal(ids.Order(), ids);
            Assert.Equal(100, ids[^1]);
        }
    }

    [Fact]
    public async Task Notices_GoOutWhileEveryPooledConnectionIsTaken_AsEventWritersTakeThemUnderLoad()
    {
        await using var database = await PostgresStoreContractTests.OpenDatabaseAsync();
        await using var listener = await ListenAsync(database, PostgresChannels.RunEvents);
        var notifications = new List<string>();
        listener.Notification += (_, notification) => notifications.Add(notification.Payload);
        var held = new List<NpgsqlConnection>();
        var pool = new NpgsqlConnectionStringBuilder(database.DataSource.ConnectionString);
        for (var i = 1; i < pool.MaxPoolSize; i++)
        {
            held.Add(await database.DataSource.OpenConnectionAsync());
        }

        try
        {
            await using var notices = new PostgresEventNotices(database, NullLogger<PostgresEventNotices>.Instance);
            notices.Raise("run-busy", 7);

            // Well under the pool's wait for a connection, which is how long a pooled notice would have queued.
            Assert.True(pool.Timeout >= 5, "the pool's wait is too short to tell");
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(3));
            while (!notifications.Contains("run-busy:7"))
            {
                await listener.WaitAsync(timeout.Token);
            }
        }
        finally
        {
            foreach (var connection in held)
            {
                await connection.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task Finish_Notifies_AndWhoeverIsNotifiedFindsTheRecordFinal()
    {
        await using var database = await PostgresStoreContractTests.OpenDatabaseAsync();
        await using var notices = new PostgresEventNotices(database, NullLogger<PostgresEventNotices>.Instance);
        var store = new PostgresRunStore(database, notices);
        var running = new RunRecord
        {
            RunId = "run-f",
            Status = RunStatus.Running,
            CreatedAt = DateTimeOffset.UnixEpoch,
            Outputs = new Dictionary<string, string>(),
            Nodes = new Dictionary<string, NodeRecord>(),
            Usage = TokenUsage.Zero,
        };
        await store.CreateAsync(running, "alice", new RunLease("A", DateTimeOffset.UnixEpoch), None);
        await using var listener = await database.DataSource.OpenConnectionAsync();
        var statusWhenNotified = new List<string?>();
        listener.Notification += (_, notification) =>
        {
            // Read on another connection as the notification arrives, as a follower on another replica does.
            statusWhenNotified.Add(store.GetAsync("run-f", None).GetAwaiter().GetResult()?.Status);
        };
        await using (var listen = new NpgsqlCommand($"LISTEN {PostgresChannels.RunEvents};", listener))
        {
            await listen.ExecuteNonQueryAsync();
        }

        await store.FinishAsync(running with { Status = RunStatus.Completed }, new RunEventEntry(1, "run.completed", "{}"), None);

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (statusWhenNotified.Count < 1)
        {
            await listener.WaitAsync(timeout.Token);
        }

        Assert.Equal([RunStatus.Completed], statusWhenNotified);
    }

    /// <summary>
    /// A burst of a run's events that PostgreSQL commits but whose answer is lost (a failover just after the commit):
    /// the run's retry finds the burst stored and goes on, and the replicas following the run are still told of it,
    /// as the write itself would have told them. Here the run then waits on its model, so no later write tells them:
    /// without the notice, a follower elsewhere would see the burst's tokens only at its next poll.
    /// </summary>
    [Fact]
    public async Task ABurstFoundStoredAfterItsAnswerWasLost_IsStillAnnouncedToFollowers()
    {
        await using var upstream = await FakeUpstream.StartAsync();
        upstream.DefaultScript = new UpstreamScript { Tokens = ["one ", "two "], Stall = (1, TimeSpan.FromMinutes(2)) };
        var settings = GatewayHost.WithUpstream(GatewayHost.SimulatedSettings(), upstream);
        settings["Gateway:Storage:Provider"] = StorageOptions.Postgres;
        settings[GatewayHost.StorageKey] = await PostgresServer.CreateDatabaseAsync();
        var lost = 0;
        string? writing = null;
        IReadOnlyList<RunEventEntry>? lostBurst = null;
        await using var gateway = await GatewayHost.StartAsync(settings, services => services.AddFlakyRunStore<PostgresRunStore>(inner => new FlakyRunStore(inner)
        {
            OnRunWrite = runId => writing = runId,
            // The burst with the first token commits (written here, as the store's own write would, with no notice) and
            // its answer is lost.
            BeforeEvents = async entries =>
            {
                if (entries.Any(entry => entry.Name == "token") && Interlocked.Exchange(ref lost, 1) == 0)
                {
                    lostBurst = entries;
                    await CommitWithoutNoticeAsync(settings[GatewayHost.StorageKey]!, writing!, entries);
                    throw new FlakyRunStore.FailoverException();
                }
            },
        }));
        await using var listener = new NpgsqlConnection(settings[GatewayHost.StorageKey]);
        await listener.OpenAsync();
        var notices = new List<string>();
        listener.Notification += (_, notification) => notices.Add(notification.Payload);
        await using (var listen = new NpgsqlCommand($"LISTEN {PostgresChannels.RunEvents};", listener))
        {
            await listen.ExecuteNonQueryAsync();
        }

        var runId = await RunClient.StartInBackgroundAsync(gateway.Client, ReplicaPair.RelayFlow);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        try
        {
            while (lostBurst is null || !notices.Contains($"{runId}:{lostBurst[^1].Id}"))
            {
                await listener.WaitAsync(timeout.Token);
            }
        }
        catch (OperationCanceledException)
        {
            Assert.Fail($"No notice of the burst up to event {lostBurst?[^1].Id} in 15 s; notices: {string.Join(", ", notices)}");
        }

        var stored = await gateway.Services.GetRequiredService<PostgresRunStore>().GetEventsAsync(runId, 0, None);
        Assert.Equal(Enumerable.Range(1, stored.Count).Select(id => (long)id), stored.Select(entry => entry.Id));
        Assert.Equal(lostBurst[^1], stored[^1]);
        Assert.Equal("one ", System.Text.Json.Nodes.JsonNode.Parse(stored[^1].Data)!["text"]!.GetValue<string>());
    }

    private static async Task CommitWithoutNoticeAsync(string connectionString, string runId, IReadOnlyList<RunEventEntry> entries)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var batch = new NpgsqlBatch(connection);
        foreach (var entry in entries)
        {
            var insert = new NpgsqlBatchCommand("INSERT INTO run_events (run_id, id, name, data) VALUES ($1, $2, $3, $4);");
            insert.Parameters.Add(new NpgsqlParameter { Value = runId });
            insert.Parameters.Add(new NpgsqlParameter { Value = entry.Id });
            insert.Parameters.Add(new NpgsqlParameter { Value = entry.Name });
            insert.Parameters.Add(new NpgsqlParameter { Value = entry.Data });
            batch.BatchCommands.Add(insert);
        }

        await batch.ExecuteNonQueryAsync();
    }

    [Fact]
    public async Task Gateway_OnPostgres_RunsAFlow_KeepsItsRunAndEvents_AndIsReady()
    {
        var settings = GatewayHost.SimulatedSettings();
        settings["Gateway:Storage:Provider"] = StorageOptions.Postgres;
        settings[GatewayHost.StorageKey] = await PostgresServer.CreateDatabaseAsync();
        await using var gateway = await GatewayHost.StartAsync(settings);

        using var saved = await gateway.Client.PostAsync(
            "/api/flows", Json.Body("""{"id":"hello","nodes":[{"id":"in","type":"input"},{"id":"say","type":"llm","model":"echo","prompt":"in"},{"id":"out","type":"output","from":["say"]}]}"""));
        Assert.Equal(HttpStatusCode.Created, saved.StatusCode);
        using var ran = await gateway.Client.PostAsync("/api/flows/hello/run", Json.Body("""{"input":"one two three"}"""));
        var record = await Json.ReadAsync(ran);
        Assert.Equal("completed", record["status"]!.GetValue<string>());
        var runId = record["runId"]!.GetValue<string>();

        using var read = await gateway.Client.GetAsync($"/api/runs/{runId}");
        Assert.Equal("one two three", (await Json.ReadAsync(read))["outputs"]!["say"]!.GetValue<string>());
        Assert.IsType<PostgresRunStore>(gateway.Services.GetRequiredService<IRunStore>());
        Assert.NotNull(gateway.Services.GetService<PostgresRateBuckets>());
        var events = await gateway.Services.GetRequiredService<IRunStore>().GetEventsAsync(runId, 0, None);
        Assert.Equal(Enumerable.Range(1, events.Count).Select(i => (long)i), events.Select(entry => entry.Id));
        Assert.Equal(["run.started", "run.completed"], [events[0].Name, events[^1].Name]);
        using var listed = await gateway.Client.GetAsync("/api/runs?flowId=hello");
        Assert.Single((await Json.ReadAsync(listed)).AsArray());
        using var ready = await gateway.Client.GetAsync("/readyz");
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        Assert.Equal("Healthy", await ready.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Gateway_OnADatabaseThatTakesReadsOnly_IsNotReady()
    {
        var settings = GatewayHost.SimulatedSettings();
        settings["Gateway:Storage:Provider"] = StorageOptions.Postgres;
        var connectionString = await PostgresServer.CreateDatabaseAsync();
        settings[GatewayHost.StorageKey] = connectionString;
        await using var gateway = await GatewayHost.StartAsync(settings);

        // As a standby answers (after a failover that left the gateway on the old primary): every write refused.
        var database = new NpgsqlConnectionStringBuilder(connectionString).Database;
        await using (var admin = new NpgsqlConnection(connectionString))
        {
            await admin.OpenAsync();
            await using var readOnly = new NpgsqlCommand($"ALTER DATABASE {database} SET default_transaction_read_only = on;", admin);
            await readOnly.ExecuteNonQueryAsync();
        }

        NpgsqlConnection.ClearAllPools();
        gateway.Services.GetRequiredService<PostgresDatabase>().DataSource.Clear();

        using var ready = await gateway.Client.GetAsync("/readyz");
        // Until 2026-12-06: 200 Healthy, from a read alone, while every run failed.
        Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
        using var refused = await gateway.Client.PostAsync(
            "/api/flows", Json.Body("""{"id":"ro","nodes":[{"id":"in","type":"input"},{"id":"out","type":"output","from":["in"]}]}"""));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
    }

    [Fact]
    public async Task AMalformedConnectionString_StopsStartUpNamingTheKey()
    {
        var settings = GatewayHost.SimulatedSettings();
        settings["Gateway:Storage:Provider"] = StorageOptions.Postgres;
        settings[GatewayHost.StorageKey] = "Host=127.0.0.1;Colour=blue";

        var exception = await Assert.ThrowsAnyAsync<Exception>(() => GatewayHost.StartAsync(settings));

        Assert.Contains("Gateway:Storage:ConnectionString is not a valid Npgsql connection string", Flatten(exception), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Host=db;Database=gateway;Username=gateway", PostgresDatabase.DefaultMaxPoolSize)]
    [InlineData("Host=db;Database=gateway;Username=gateway;Maximum Pool Size=70", 70)]
    [InlineData("Host=db;Database=gateway;Username=gateway;maxpoolsize=12", 12)]
    public void APoolSizeNotGiven_IsSmallEnoughForSeveralReplicasOnOneServer_AndAGivenOneIsKept(string connectionString, int expected)
    {
        using var database = new PostgresDatabase(Microsoft.Extensions.Options.Options.Create(new StorageOptions { Provider = StorageOptions.Postgres, ConnectionString = connectionString }));

        Assert.Equal(expected, new Npgsql.NpgsqlConnectionStringBuilder(database.DataSource.ConnectionString).MaxPoolSize);
    }

    [Fact]
    public async Task AServerThatNeverAnswers_FailsStartUpWithinTheConnectTimeout()
    {
        using var silent = new TcpListener(IPAddress.Loopback, 0);
        silent.Start();
        var settings = GatewayHost.SimulatedSettings();
        settings["Gateway:Storage:Provider"] = StorageOptions.Postgres;
        settings[GatewayHost.StorageKey] = $"Host=127.0.0.1;Port={((IPEndPoint)silent.LocalEndpoint).Port};Database=gateway;Username=gateway";
        var clock = Stopwatch.StartNew();

        var exception = await Assert.ThrowsAsync<StartupRefusedException>(() => GatewayHost.StartAsync(settings));

        Assert.InRange(clock.Elapsed, TimeSpan.Zero, TimeSpan.FromSeconds(PostgresDatabase.DefaultConnectTimeoutSeconds + 10));
        Assert.StartsWith($"The store PostgreSQL '127.0.0.1:{((IPEndPoint)silent.LocalEndpoint).Port}/gateway' cannot be reached", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ReadyCheck_OnAnUnreachableServer_IsUnhealthy()
    {
        var port = FreePort.Next();
        await using var database = PostgresStoreContractTests.Open($"Host=127.0.0.1;Port={port};Database=gateway;Username=gateway;Timeout=2");

        var result = await new StorageHealthCheck(new PostgresSchema(database)).CheckHealthAsync(new HealthCheckContext());

        Assert.Equal(HealthStatus.Unhealthy, result.Status);
        Assert.StartsWith($"The store PostgreSQL '127.0.0.1:{port}/gateway' cannot be reached: ", result.Description, StringComparison.Ordinal);
        // The reason in the description, not an exception: the health service would log its stack trace at every probe.
        Assert.Null(result.Exception);
    }

    private static string Flatten(Exception exception) =>
        exception is AggregateException aggregate ? string.Join(" | ", aggregate.InnerExceptions.Select(Flatten)) : exception.ToString();

    private static async Task<NpgsqlConnection> ListenAsync(PostgresDatabase database, string channel)
    {
        var listener = await database.DataSource.OpenConnectionAsync();
        await using var listen = new NpgsqlCommand($"LISTEN {channel};", listener);
        await listen.ExecuteNonQueryAsync();
        return listener;
    }

    private static async Task WaitForAsync(NpgsqlConnection listener, Func<bool> condition)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (!condition())
        {
            await listener.WaitAsync(timeout.Token);
        }
    }

    private static async Task<List<T>> QueryAsync<T>(PostgresDatabase database, string sql, Func<NpgsqlDataReader, T> read)
    {
        await using var command = database.DataSource.CreateCommand(sql);
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<T>();
        while (await reader.ReadAsync())
        {
            rows.Add(read(reader));
        }

        return rows;
    }
}
