using Gateway.Flows;
using Gateway.Runs;
using Gateway.Storage;
using Gateway.Tests.Infrastructure;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;

namespace Gateway.Tests.Storage;

/// <summary>
/// A file the first build with a store wrote (schema 1, 2026-11-22), opened by this one: migrated, and what it held
/// read back unchanged. The schema and the rows are as that build wrote them (copied from a file it made).
/// </summary>
public sealed class SqliteUpgradeTests : IDisposable
{
    private const string Schema1 = """
        CREATE TABLE flows (
            id       TEXT PRIMARY KEY,
            document TEXT NOT NULL
        );
        CREATE TABLE runs (
            run_id     TEXT PRIMARY KEY,
            flow_id    TEXT,
            status     TEXT NOT NULL,
            created_at INTEGER NOT NULL,
            record     TEXT NOT NULL
        );
        CREATE INDEX runs_by_created ON runs (created_at);
        CREATE INDEX runs_by_flow ON runs (flow_id, created_at);
        CREATE INDEX runs_by_status ON runs (status);
        CREATE TABLE run_events (
            run_id TEXT NOT NULL,
            id     INTEGER NOT NULL,
            name   TEXT NOT NULL,
            data   TEXT NOT NULL,
            PRIMARY KEY (run_id, id)
        ) WITHOUT ROWID;
        PRAGMA user_version = 1;
        """;

    // That build escaped every character outside ASCII in a flow's document.
    private const string FlowDocument = """
        {"id":"edited","name":"After edit \u2713 Gr\u00FC\u00DFe \uD83D\uDC4B\uD83C\uDFFD \u0022quotes\u0022 \\ back\u003C/script\u003E","nodes":[{"id":"q","type":"input"},{"id":"m","type":"llm","model":"lorem","prompt":"q"},{"id":"o","type":"output","from":["m"]}]}
        """;

    private const string CompletedRecord = """
        {"runId":"run-done","flowId":"edited","status":"completed","createdAt":"2026-12-07T22:53:43.2502634+00:00","completedAt":"2026-12-07T22:53:43.4696725+00:00","outputs":{"m":"Lorem ipsum"},"nodes":{"q":{"status":"completed","output":"after edit","model":null,"provider":null,"attempts":0,"finishReason":null,"usage":null,"startedAt":"2026-12-07T22:53:43.2507866+00:00","completedAt":"2026-12-07T22:53:43.2507911+00:00","error":null},"m":{"status":"completed","output":"Lorem ipsum","model":"lorem","provider":"simulated","attempts":1,"finishReason":"stop","usage":{"inputTokens":2,"outputTokens":2},"startedAt":"2026-12-07T22:53:43.2508+00:00","completedAt":"2026-12-07T22:53:43.4693074+00:00","error":null},"o":{"status":"completed","output":null,"model":null,"provider":null,"attempts":0,"finishReason":null,"usage":null,"startedAt":"2026-12-07T22:53:43.4693234+00:00","completedAt":"2026-12-07T22:53:43.4693335+00:00","error":null}},"usage":{"inputTokens":2,"outputTokens":2},"error":null}
        """;

    private static readonly RunEventEntry[] Events =
    [
        new(1, "run.started", """{"runId":"run-done","flowId":"edited"}"""),
        new(2, "node.started", """{"node":"q","type":"input"}"""),
        new(3, "token", """{"node":"m","text":"Gr\u00FC\u00DFe \uD83D\uDC4B"}"""),
        new(4, "run.completed", CompletedRecord.Trim()),
    ];

    private readonly string _path = GatewayHost.NewDatabasePath();

    [Fact]
    public async Task AFileAtSchema1_IsMigrated_AndItsFlowsRunsAndEventsReadBackUnchanged()
    {
        await using (var connection = new SqliteConnection(GatewayHost.ConnectionString(_path)))
        {
            await connection.OpenAsync();
            await ExecuteAsync(connection, "PRAGMA journal_mode = WAL;");
            await ExecuteAsync(connection, Schema1);
            await ExecuteAsync(connection, "INSERT INTO flows (id, document) VALUES ('edited', $document);", ("$document", FlowDocument.Trim()));
            await ExecuteAsync(
                connection, "INSERT INTO runs (run_id, flow_id, status, created_at, record) VALUES ('run-done', 'edited', 'completed', 1796684023250, $record);",
                ("$record", CompletedRecord.Trim()));
            foreach (var entry in Events)
            {
                await ExecuteAsync(
                    connection, "INSERT INTO run_events (run_id, id, name, data) VALUES ('run-done', $id, $name, $data);",
                    ("$id", entry.Id), ("$name", entry.Name), ("$data", entry.Data));
            }
        }

        SqliteConnection.ClearAllPools();
        using var database = new SqliteDatabase(Options.Create(new StorageOptions { ConnectionString = GatewayHost.ConnectionString(_path) }));
        var schema = new SqliteSchema(database);

        await schema.MigrateAsync(CancellationToken.None);

        Assert.Equal(schema.Version, await schema.ReadVersionAsync(CancellationToken.None));
        var flow = await new SqliteFlowStore(database).GetAsync("edited", CancellationToken.None);
        Assert.NotNull(flow);
        Assert.Equal(FlowDocument.Trim(), flow.Document);
        Assert.Equal(FlowTag.Of(FlowDocument.Trim()), flow.Tag);
        Assert.Equal("After edit ✓ Grüße 👋🏽 \"quotes\" \\ back</script>", flow.Flow.Name);
        Assert.Equal(["q", "m", "o"], flow.Flow.Nodes.Select(node => node.Id));

        var runs = new SqliteRunStore(database);
        var record = await runs.GetAsync("run-done", CancellationToken.None);
        Assert.NotNull(record);
        Assert.Equal(RunStatus.Completed, record.Status);
        Assert.Equal("Lorem ipsum", record.Outputs["m"]);
        Assert.Equal("", await runs.GetOwnerAsync("run-done", CancellationToken.None)); // stored before owners were: admins'
        Assert.Equal(["run-done"], await runs.ListIdsAsync("edited", owner: null, 10, CancellationToken.None));
        Assert.Equal(Events, await runs.GetEventsAsync("run-done", 0, CancellationToken.None));
    }

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        GatewayHost.DeleteDatabase(_path);
    }

    private static async Task ExecuteAsync(SqliteConnection connection, string sql, params (string Name, object Value)[] parameters)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }

        await command.ExecuteNonQueryAsync();
    }
}
