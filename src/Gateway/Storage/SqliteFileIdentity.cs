using System.Runtime.InteropServices;
using Microsoft.Data.Sqlite;

namespace Gateway.Storage;

/// <summary>
/// SQLite's own check that the file a connection has open is still the one at its path
/// (<c>SQLITE_FCNTL_HAS_MOVED</c>: a <c>stat</c> of the path against the inode it holds): deleted, or a copy moved over
/// it. Not a symbolic link on its way pointed elsewhere: SQLite keeps the path with the links resolved, and stats
/// that. Asked of SQLite rather than of a descriptor of the gateway's own:
/// closing any descriptor of the file drops every POSIX lock the process holds on it, SQLite's included.
/// </summary>
internal static partial class SqliteFileIdentity
{
    private const int HasMovedOp = 20; // SQLITE_FCNTL_HAS_MOVED

    private static readonly byte[] Main = "main\0"u8.ToArray();

    /// <returns>Whether the connection's file has left its path; false when SQLite cannot say.</returns>
    public static bool HasMoved(SqliteConnection connection)
    {
        var moved = 0;
        return connection.Handle is { } handle && FileControl(handle.DangerousGetHandle(), Main, HasMovedOp, ref moved) == 0 && moved != 0;
    }

    // The library Microsoft.Data.Sqlite loads (SQLitePCLRaw's bundle), whose raw API has no file control.
    [DllImport("e_sqlite3", EntryPoint = "sqlite3_file_control")]
    private static extern int FileControl(IntPtr db, byte[] name, int op, ref int arg);
}
