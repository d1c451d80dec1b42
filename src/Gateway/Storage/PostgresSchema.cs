using Gateway.Hosting;
using Npgsql;

namespace Gateway.Storage;

/// <summary>
/// The PostgreSQL schema as numbered migrations, recorded one row each in <c>schema_version</c>. Start-up applies the
/// missing ones in a single transaction under an advisory lock, so replicas starting together queue behind one
/// another and the later ones find nothing left to do. Append a migration, never edit one that has shipped.
/// </summary>
internal sealed class PostgresSchema(PostgresDatabase database) : IStoreSchema
{
    /// <summary>The advisory lock every gateway takes to migrate: "gateway" in ASCII, one key for all replicas.</summary>
    public const long MigrationLockKey = 0x0067_6174_6577_6179;

    private static readonly string[] Migrations =
    [
        // Times the gateway hands in (created_at, lease_expires_at) are unix milliseconds, as in SQLite; seq keeps
        // insertion order for runs created in the same millisecond.
        """
        CREATE TABLE flows (
            id       text PRIMARY KEY,
            document text NOT NULL
        );
        CREATE TABLE runs (
            run_id           text PRIMARY KEY,
            seq              bigint GENERATED ALWAYS AS IDENTITY,
            flow_id          text,
            status           text NOT NULL,
            created_at       bigint NOT NULL,
            record           text NOT NULL,
            owner            text,
            replica          text,
            lease_expires_at bigint,
            cancel_requested boolean NOT NULL DEFAULT false
        );
        CREATE INDEX runs_by_created ON runs (created_at, seq);
        CREATE INDEX runs_by_flow ON runs (flow_id, created_at);
        CREATE INDEX runs_by_owner ON runs (owner, created_at);
        CREATE INDEX runs_by_status ON runs (status);
        CREATE INDEX runs_by_replica ON runs (replica, status);
        CREATE TABLE run_events (
            run_id text NOT NULL,
            id     bigint NOT NULL,
            name   text NOT NULL,
            data   text NOT NULL,
            PRIMARY KEY (run_id, id)
        );
        """,
        // Rate-limit buckets shared by the replicas, timed by the database's clock so that they agree. Unlogged: a
        // server crash empties it, which leaves every bucket full, and in exchange no write waits on the WAL.
        """
        CREATE UNLOGGED TABLE rate_buckets (
            name       text PRIMARY KEY,
            available  double precision NOT NULL,
            updated_at timestamptz NOT NULL
        );
        """,
    ];

    public string Description => $"PostgreSQL '{database.Description}'";

    public int Version => Migrations.Length;

    public async Task MigrateAsync(CancellationToken cancellationToken)
    {
        await using var connection = await database.DataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        // Held until the commit: the next replica reads the version only after this one's tables exist.
        await ExecuteAsync(connection, transaction, $"SELECT pg_advisory_xact_lock({MigrationLockKey});", cancellationToken);
        // Created only where missing: CREATE TABLE IF NOT EXISTS needs CREATE on the schema even when the table is
        // there, and a database the gateway's role only reads and writes (migrated by its owner) must still start.
        await using (var exists = connection.Command(transaction, "SELECT to_regclass('schema_version') IS NOT NULL;"))
        {
            if (await exists.ExecuteScalarAsync(cancellationToken) is not true)
            {
                await ExecuteAsync(
                    connection, transaction,
                    "CREATE TABLE IF NOT EXISTS schema_version (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now());",
                    cancellationToken);
            }
        }

        await using (var read = connection.Command(transaction, "SELECT coalesce(max(version), 0) FROM schema_version;"))
        {
            var current = (int)(await read.ExecuteScalarAsync(cancellationToken))!;
            if (current > Migrations.Length)
            {
                throw new StartupRefusedException(
                    $"The database {Description} has schema version {current}, newer than this gateway's {Migrations.Length}: run a gateway at least as new as the one that migrated it.");
            }

            for (var version = current; version < Migrations.Length; version++)
            {
                await ExecuteAsync(connection, transaction, Migrations[version], cancellationToken);
                await using var record = connection.Command(transaction, "INSERT INTO schema_version (version) VALUES (@version);", ("version", version + 1));
                await record.ExecuteNonQueryAsync(cancellationToken);
            }
        }

        await transaction.CommitAsync(cancellationToken);
    }

    public async Task<int> ReadVersionAsync(CancellationToken cancellationToken)
    {
        await using var command = database.DataSource.Command("SELECT coalesce(max(version), 0) FROM schema_version;");
        command.CommandTimeout = (int)StorageHealthCheck.Timeout.TotalSeconds;
        return (int)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    /// <summary>A server that takes reads only: a standby, as after a failover that left the gateway on the old primary.</summary>
    public async Task<string?> WriteRefusalAsync(CancellationToken cancellationToken)
    {
        await using var command = database.DataSource.Command("SHOW transaction_read_only;");
        command.CommandTimeout = (int)StorageHealthCheck.Timeout.TotalSeconds;
        return await command.ExecuteScalarAsync(cancellationToken) is "on"
            ? $"{Description} takes reads only (transaction_read_only is on: a standby?)."
            : null;
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string sql, CancellationToken cancellationToken)
    {
        await using var command = connection.Command(transaction, sql);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
