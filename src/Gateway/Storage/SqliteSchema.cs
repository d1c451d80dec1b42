using Gateway.Hosting;
using Microsoft.Data.Sqlite;

namespace Gateway.Storage;

/// <summary>
/// The schema as numbered migrations; <c>PRAGMA user_version</c> records how many have run, so start-up applies
/// only the new ones. Append a migration, never edit one that has shipped.
/// </summary>
internal sealed class SqliteSchema(SqliteDatabase database) : IStoreSchema
{
    private static readonly string[] Migrations =
    [
        """
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
        """,
        // The API key (by name) that started a run: only it and admins may see the run.
        """
        ALTER TABLE runs ADD COLUMN owner TEXT;
        CREATE INDEX runs_by_owner ON runs (owner, created_at);
        """,
        // Which replica executes a running run and until when (unix ms); a cancel asked of another replica.
        """
        ALTER TABLE runs ADD COLUMN replica TEXT;
        ALTER TABLE runs ADD COLUMN lease_expires_at INTEGER;
        ALTER TABLE runs ADD COLUMN cancel_requested INTEGER NOT NULL DEFAULT 0;
        CREATE INDEX runs_by_replica ON runs (replica, status);
        """,
    ];

    public string Description => $"SQLite '{database.DataSource}'";

    public int Version => Migrations.Length;

    public async Task MigrateAsync(CancellationToken cancellationToken)
    {
        // SQLite creates a missing file but not a missing folder; a fresh clone or container has neither.
        if (database.IsFile && Path.GetDirectoryName(database.DataSource) is { Length: > 0 } directory)
        {
            try
            {
                Directory.CreateDirectory(directory);
            }
            catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
            {
                throw new StartupRefusedException(
                    $"The folder of the SQLite file '{database.DataSource}' ({StorageOptions.Section}:ConnectionString) cannot be created: {exception.Message}",
                    exception);
            }
        }

        database.ClaimAlone();

        // WAL is a property of the file: set once, it holds for every later connection.
        await database.ExecuteOutsideTransactionAsync(
            connection => ExecuteAsync(connection, null, "PRAGMA journal_mode = WAL;", cancellationToken), cancellationToken);

        await database.WriteAsync(async (connection, transaction) =>
        {
            var current = Convert.ToInt32(await ScalarAsync(connection, transaction, "PRAGMA user_version;", cancellationToken), System.Globalization.CultureInfo.InvariantCulture);
            if (current > Migrations.Length)
            {
                throw new StartupRefusedException(
                    $"The database '{database.DataSource}' has schema version {current}, newer than this gateway's {Migrations.Length}.");
            }

            for (var version = current; version < Migrations.Length; version++)
            {
                await ExecuteAsync(connection, transaction, Migrations[version], cancellationToken);
            }

            await ExecuteAsync(connection, transaction, $"PRAGMA user_version = {Migrations.Length};", cancellationToken);
            return current;
        }, cancellationToken);
    }

    /// <summary>
    /// For a file, on a connection of its own, as readiness asks: the file must still be there and open. (A database in
    /// memory lives only on the pooled connections.)
    /// </summary>
    public Task<int> ReadVersionAsync(CancellationToken cancellationToken)
    {
        async Task<int> ReadAsync(SqliteConnection connection) =>
            Convert.ToInt32(await ScalarAsync(connection, null, "PRAGMA user_version;", cancellationToken), System.Globalization.CultureInfo.InvariantCulture);

        return database.IsFile ? database.ProbeAsync(ReadAsync, cancellationToken) : database.ReadAsync(ReadAsync, cancellationToken);
    }

    /// <summary>
    /// Takes the write lock and lets it go (<c>BEGIN IMMEDIATE</c>, then <c>ROLLBACK</c>): refused when another process
    /// holds it (a second's wait: this process's own writes hold it for a moment) or the file cannot be written.
    /// </summary>
    public Task<string?> WriteRefusalAsync(CancellationToken cancellationToken)
    {
        async Task<string?> TryLockAsync(SqliteConnection connection)
        {
            try
            {
                // One statement a command: a busy BEGIN inside a batch was passed over in silence once the timeout ran out.
                await using var command = connection.CreateCommand();
                command.CommandTimeout = 2;
                command.CommandText = "PRAGMA busy_timeout = 1000;";
                await command.ExecuteNonQueryAsync(cancellationToken);
                command.CommandText = "BEGIN IMMEDIATE;";
                await command.ExecuteNonQueryAsync(cancellationToken);
                command.CommandText = "ROLLBACK;";
                await command.ExecuteNonQueryAsync(cancellationToken);
                return null;
            }
            catch (SqliteException exception) when (exception.SqliteErrorCode is StoreErrors.SqliteBusy or StoreErrors.SqliteLocked)
            {
                // Another process's lock, or (for more than the second waited) this one's writes queued behind one.
                return $"{Description} is locked: writes wait, then fail.";
            }
            catch (SqliteException exception) when (exception.SqliteErrorCode is StoreErrors.SqliteReadOnly)
            {
                return $"{Description} cannot be written: {exception.Message}";
            }
        }

        // A copy put back answers the probe, but not this process's writes, which stay refused until a restart.
        return database.WasDeleted ? Task.FromResult<string?>($"{Description} was deleted or replaced while the gateway ran: restart it.")
            : database.Damage is { } damage ? Task.FromResult<string?>($"{Description} is damaged ({damage}): restore it from a backup, then restart the gateway.")
            : database.IsFull ? Task.FromResult<string?>($"{Description} is full: a write was refused for want of disk space ('database or disk is full') within the last {SqliteDatabase.FullFor.TotalSeconds:0} s.")
            : database.IsFile ? database.ProbeAsync(TryLockAsync, cancellationToken)
            : Task.FromResult<string?>(null);
    }

    private static async Task ExecuteAsync(SqliteConnection connection, SqliteTransaction? transaction, string sql, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static async Task<object?> ScalarAsync(SqliteConnection connection, SqliteTransaction? transaction, string sql, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        return await command.ExecuteScalarAsync(cancellationToken);
    }
}
