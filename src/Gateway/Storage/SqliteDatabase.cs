using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;

namespace Gateway.Storage;

/// <summary>
/// The SQLite file: a pooled connection per operation, and one writer at a time. WAL lets readers go on while
/// a write is under way; funnelling this process's writes through one gate means concurrent runs never wait on
/// SQLite's file lock, and the busy timeout covers another process using the same file.
/// </summary>
/// <remarks>
/// Microsoft.Data.Sqlite's async methods complete synchronously (file I/O, fsync at checkpoints, the busy
/// timeout), so every operation runs on a thread-pool thread: the caller's thread, which may be the one a socket
/// completion runs on, never waits on the file.
/// </remarks>
internal sealed class SqliteDatabase : IDisposable
{
    private readonly SemaphoreSlim _writeGate = new(1, 1);
    private readonly string _connectionString;

    public SqliteDatabase(IOptions<StorageOptions> options)
    {
        var builder = new SqliteConnectionStringBuilder(options.Value.ConnectionString) { Pooling = true };
        _connectionString = builder.ToString();
        DataSource = builder.DataSource is ":memory:" or "" ? builder.DataSource : Path.GetFullPath(builder.DataSource);
    }

    /// <summary>The database file as a full path, so logs and errors say exactly which file.</summary>
    public string DataSource { get; }

    public Task<T> ReadAsync<T>(Func<SqliteConnection, Task<T>> read, CancellationToken cancellationToken) =>
        Task.Run(
            async () =>
            {
                await using var connection = await OpenAsync(cancellationToken);
                return await read(connection);
            },
            cancellationToken);

    /// <summary>Runs <paramref name="write"/> in a transaction that commits when it returns.</summary>
    public Task<T> WriteAsync<T>(Func<SqliteConnection, SqliteTransaction, Task<T>> write, CancellationToken cancellationToken) =>
        Task.Run(() => WriteInTransactionAsync(write, cancellationToken), cancellationToken);

    public Task WriteAsync(Func<SqliteConnection, SqliteTransaction, Task> write, CancellationToken cancellationToken) =>
        WriteAsync(async (connection, transaction) =>
        {
            await write(connection, transaction);
            return true;
        }, cancellationToken);

    /// <summary>Runs <paramref name="change"/> on a connection of its own, outside any transaction (a pragma that cannot run in one).</summary>
    public Task ExecuteOutsideTransactionAsync(Func<SqliteConnection, Task> change, CancellationToken cancellationToken) =>
        Task.Run(
            async () =>
            {
                await using var connection = await OpenAsync(cancellationToken);
                await change(connection);
            },
            cancellationToken);

    private async Task<T> WriteInTransactionAsync<T>(Func<SqliteConnection, SqliteTransaction, Task<T>> write, CancellationToken cancellationToken)
    {
        await _writeGate.WaitAsync(cancellationToken);
        try
        {
            await using var connection = await OpenAsync(cancellationToken);
            await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken);
            var result = await write(connection, transaction);
            await transaction.CommitAsync(cancellationToken);
            return result;
        }
        finally
        {
            _writeGate.Release();
        }
    }

    private async Task<SqliteConnection> OpenAsync(CancellationToken cancellationToken)
    {
        var connection = new SqliteConnection(_connectionString);
        try
        {
            await connection.OpenAsync(cancellationToken);
            await using var pragmas = connection.CreateCommand();
            // Per connection: in WAL, NORMAL syncs at checkpoints rather than on every commit, which keeps one
            // insert per streamed token cheap; a power cut may lose the last commits but never corrupts the file.
            pragmas.CommandText = "PRAGMA busy_timeout = 10000; PRAGMA synchronous = NORMAL;";
            await pragmas.ExecuteNonQueryAsync(cancellationToken);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    /// <summary>Closes the pooled connections, so the WAL is checkpointed and the file can be opened by the next host.</summary>
    public void Dispose()
    {
        using var connection = new SqliteConnection(_connectionString);
        SqliteConnection.ClearPool(connection);
        _writeGate.Dispose();
    }
}
