using Microsoft.Data.Sqlite;

namespace Gateway.Storage;

/// <summary>
/// The SQLite file was deleted or replaced under the gateway (<see cref="SqliteDatabase"/>): a store away that no wait
/// brings back before a restart. A request still gets a 503 (<see cref="StoreErrors.IsUnavailable"/>); a run does not
/// wait for it (<see cref="StoreErrors.MayHeal"/>).
/// </summary>
internal sealed class StoreFileGoneException(string message) : SqliteException(message, StoreErrors.SqliteCantOpen);
