using System.Data.Common;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace Gateway.Storage;

/// <summary>What a store's error means, whichever database raised it.</summary>
internal static class StoreErrors
{
    private const string PostgresUniqueViolation = "23505";

    /// <summary>A write in a read-only transaction: a standby's answer, until a failover makes a primary of it.</summary>
    private const string PostgresReadOnlyTransaction = "25006";
    private const int SqlitePrimaryKey = 1555;
    private const int SqliteUnique = 2067;

    // SQLite's primary result codes (https://sqlite.org/rescode.html).
    public const int SqliteBusy = 5, SqliteLocked = 6, SqliteReadOnly = 8, SqliteIoError = 10, SqliteFull = 13, SqliteCantOpen = 14;

    /// <summary>A file whose pages are damaged, or that is no database at all: no wait mends it.</summary>
    public const int SqliteCorrupt = 11, SqliteNotADatabase = 26;

    /// <summary>The row's key is taken: an event id another writer logged first, or a retried write that had committed.</summary>
    public static bool IsDuplicateKey(DbException exception) =>
        exception is PostgresException { SqlState: PostgresUniqueViolation } or SqliteException { SqliteExtendedErrorCode: SqlitePrimaryKey or SqliteUnique };

    /// <summary>A store that cannot be used for now and that a wait may bring back: what a run waits for (not a file deleted or replaced under the gateway).</summary>
    public static bool MayHeal(Exception exception) => IsUnavailable(exception) && exception is not StoreFileGoneException;

    /// <summary>
    /// A store that cannot be used for now, which waiting may cure: a lock held elsewhere (or writes queued behind one,
    /// <see cref="SqliteDatabase.BusyTimeout"/>), a full or read-only disk, a file gone, a database not answering. Not a
    /// fault no wait cures (a table missing, pages damaged), which is a 500, not an invitation to retry. (A file
    /// deleted or replaced under the gateway is one too, for a request's 503, though only a restart cures it.)
    /// </summary>
    public static bool IsUnavailable(Exception exception) => exception switch
    {
        SqliteException sqlite => sqlite.SqliteErrorCode is SqliteBusy or SqliteLocked or SqliteReadOnly or SqliteIoError or SqliteFull or SqliteCantOpen,
        PostgresException { SqlState: PostgresReadOnlyTransaction } => true,
        NpgsqlException npgsql => npgsql.IsTransient,
        _ => false,
    };
}
