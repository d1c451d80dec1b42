using System.Data.Common;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace Gateway.Storage;

/// <summary>What a store's error means, whichever database raised it.</summary>
internal static class StoreErrors
{
    private const string PostgresUniqueViolation = "23505";
    private const int SqlitePrimaryKey = 1555;
    private const int SqliteUnique = 2067;

    /// <summary>The row's key is taken: an event id another writer logged first, or a retried write that had committed.</summary>
    public static bool IsDuplicateKey(DbException exception) =>
        exception is PostgresException { SqlState: PostgresUniqueViolation } or SqliteException { SqliteExtendedErrorCode: SqlitePrimaryKey or SqliteUnique };
}
