using Gateway.Hosting;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;

namespace Gateway.Storage;

/// <summary>
/// The SQLite file: a pooled connection per operation, and one writer at a time. WAL lets readers go on while
/// a write is under way; funnelling this process's writes through one gate means concurrent runs never wait on
/// SQLite's file lock, and the busy timeout covers another process using the same file. The gate takes API keys'
/// writes in turn (<see cref="FairWriteGate"/>), so that one key's heavy runs do not hold up every other key's.
/// </summary>
/// <remarks>
/// Microsoft.Data.Sqlite's async methods complete synchronously (file I/O, fsync at checkpoints, the busy
/// timeout), so every operation runs on a thread-pool thread: the caller's thread, which may be the one a socket
/// completion runs on, never waits on the file.
/// </remarks>
internal sealed class SqliteDatabase : IDisposable
{
    /// <summary>
    /// How long a write waits for the file's lock (another process holding it: a backup, the sqlite3 shell), and at
    /// most as long again for this process's write gate. Microsoft.Data.Sqlite retries a busy statement for the command
    /// timeout on top of SQLite's own busy timeout, 30 s by default, and the gate let every write queue behind it
    /// without a bound: four writes waited 30, 60, 90 and 118 s.
    /// </summary>
    public static readonly TimeSpan BusyTimeout = TimeSpan.FromSeconds(10);

    /// <summary>What the write-ahead log is cut back to once a checkpoint has emptied it: four times its usual size.</summary>
    public const long WalSizeLimitBytes = 16L * 1024 * 1024;

    private readonly FairWriteGate _writeGate = new();
    private readonly string _connectionString;

    /// <summary>A connection string for probes: its own connection each time, and never creating the file.</summary>
    private readonly string _probeConnectionString;

    /// <summary>Held open, locked, while this process uses the file: see <see cref="ClaimAlone"/>.</summary>
    private FileStream? _claim;

    /// <summary>Whether the file has gone from its path since it was seen there (<see cref="RefuseIfDeleted"/>).</summary>
    private bool _deleted;

    /// <summary>
    /// A connection of its own, opened on the file as first seen at its path and kept open until the process ends:
    /// SQLite is asked through it whether the file has left its path (<see cref="SqliteFileIdentity"/>).
    /// </summary>
    private SqliteConnection? _watch;

    private readonly Lock _seeing = new();

    public SqliteDatabase(IOptions<StorageOptions> options)
    {
        SqliteConnectionStringBuilder builder;
        try
        {
            builder = new SqliteConnectionStringBuilder(options.Value.ConnectionString) { Pooling = true, DefaultTimeout = (int)BusyTimeout.TotalSeconds };
            _connectionString = builder.ToString();
        }
        catch (Exception exception) when (exception is ArgumentException or FormatException)
        {
            throw new StartupRefusedException(
                $"{StorageOptions.Section}:ConnectionString is not a valid SQLite connection string (e.g. 'Data Source=gateway.db'): {exception.Message}",
                exception);
        }

        DataSource = builder.DataSource is ":memory:" or "" ? builder.DataSource : Path.GetFullPath(builder.DataSource);
        IsFile = DataSource is not (":memory:" or "") && builder.Mode is not SqliteOpenMode.Memory;
        _probeConnectionString = new SqliteConnectionStringBuilder(_connectionString)
        {
            Pooling = false,
            Mode = IsFile && builder.Mode is SqliteOpenMode.ReadWriteCreate ? SqliteOpenMode.ReadWrite : builder.Mode,
        }.ToString();
    }

    /// <summary>The database file as a full path, so logs and errors say exactly which file.</summary>
    public string DataSource { get; }

    /// <summary>Whether the database is a file (not in memory).</summary>
    public bool IsFile { get; }

    /// <summary>How many writes wait for the writer (those given up on and not yet passed over included).</summary>
    public int WritesWaiting => _writeGate.Waiting;

    /// <summary>Whether the file was seen deleted under the gateway: every write is refused until a restart.</summary>
    public bool WasDeleted => Volatile.Read(ref _deleted);

    /// <summary>
    /// Takes the file for this process alone, or refuses start-up. SQLite serves one gateway process: a second one on
    /// the same file would take the first one's running runs for cut off (nothing renews leases across processes on
    /// SQLite) and end them <c>interrupted</c>, as in a rolling deploy that starts the new process before the old one
    /// has drained. An advisory lock on a file beside the database, which the operating system releases when the
    /// process dies however it dies.
    /// </summary>
    public void ClaimAlone()
    {
        if (!IsFile || _claim is not null)
        {
            return;
        }

        try
        {
            _claim = new FileStream(DataSource + ".lock", FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException exception) when (IsLockHeld(exception))
        {
            throw new StartupRefusedException(
                $"The SQLite file '{DataSource}' ({StorageOptions.Section}:ConnectionString) is in use by another gateway process. " +
                $"SQLite serves one process; replicas share PostgreSQL ({StorageOptions.Section}:Provider=postgres).",
                exception);
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            throw new StartupRefusedException(
                $"The SQLite file '{DataSource}' ({StorageOptions.Section}:ConnectionString) cannot be used: {exception.Message}", exception);
        }
    }

    /// <summary>
    /// What .NET reports when another process holds the file's lock: the errno EWOULDBLOCK (11 on Linux, 35 on macOS),
    /// or ERROR_SHARING_VIOLATION on Windows.
    /// </summary>
    private static bool IsLockHeld(IOException exception) => exception.HResult is 11 or 35 or unchecked((int)0x80070020);

    /// <summary>Reads on a connection of its own, opened for this read: a pooled one would not notice the file has gone.</summary>
    public Task<T> ProbeAsync<T>(Func<SqliteConnection, Task<T>> read, CancellationToken cancellationToken) =>
        Task.Run(
            async () =>
            {
                // A copy moved over the file would answer; opened read-write, the probe, its only connection, took itself
                // for the last one and wrote the pool's write-ahead log into the copy, and the pool went on in the old file.
                RefuseIfDeleted();
                await using var connection = new SqliteConnection(_probeConnectionString);
                await connection.OpenAsync(cancellationToken);
                return await NotingDamageAsync(() => read(connection));
            },
            cancellationToken);

    public Task<T> ReadAsync<T>(Func<SqliteConnection, Task<T>> read, CancellationToken cancellationToken) =>
        Task.Run(
            async () =>
            {
                // A connection opened afresh on a deleted file's path makes a new, empty file there: "no such table".
                RefuseIfDeleted();
                await using var connection = await OpenAsync(cancellationToken);
                return await NotingDamageAsync(() => read(connection));
            },
            cancellationToken);

    public Task ReadAsync(Func<SqliteConnection, Task> read, CancellationToken cancellationToken) =>
        ReadAsync(
            async connection =>
            {
                await read(connection);
                return true;
            },
            cancellationToken);

    /// <summary>Runs <paramref name="write"/> in a transaction that commits when it returns.</summary>
    public Task<T> WriteAsync<T>(Func<SqliteConnection, SqliteTransaction, Task<T>> write, CancellationToken cancellationToken) =>
        Task.Run(() => NotingDamageAsync(() => WriteInTransactionAsync(write, cancellationToken)), cancellationToken);

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
        if (!await _writeGate.WaitAsync(StoreWriteLane.Current, BusyTimeout, cancellationToken))
        {
            // As SQLite says a lock it waited for in vain: busy, which a run's store writes try again (RunCoordinator).
            throw new SqliteException(
                $"The SQLite store did not take a write within {BusyTimeout.TotalSeconds:0} s: the writes before it are waiting for its lock.",
                StoreErrors.SqliteBusy);
        }

        try
        {
            RefuseIfDeleted();
            // Written on, a damaged file takes writes to its sound pages that its restore from a backup then loses.
            if (Damage is { } damage)
            {
                throw new SqliteException(damage, StoreErrors.SqliteCorrupt);
            }

            await using var connection = await OpenAsync(cancellationToken);
            try
            {
                var pagesBefore = PagesWritten(connection);
                await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken);
                var result = await write(connection, transaction);
                await transaction.CommitAsync(cancellationToken);
                if (PagesWritten(connection) != pagesBefore)
                {
                    // Only a write that wrote pages says there is room again: one that changed nothing (a flow saved
                    // unchanged, a delete of nothing) commits on a full disk too.
                    Volatile.Write(ref _fullAt, 0);
                }

                return result;
            }
            catch (SqliteException exception) when (exception.SqliteErrorCode is StoreErrors.SqliteFull)
            {
                Volatile.Write(ref _fullAt, Environment.TickCount64);
                throw;
            }
            catch (SqliteException exception) when (exception.SqliteErrorCode is StoreErrors.SqliteReadOnly)
            {
                // SQLite opens a file it may not write read-only, without a word, and the pool keeps such connections:
                // once the file could be written again, writes went on failing on them until the pool let them go
                // (minutes, in a probe). The pool is emptied, so the next write opens the file afresh.
                SqliteConnection.ClearPool(connection);
                throw;
            }
        }
        finally
        {
            _writeGate.Release();
        }
    }

    /// <summary>The pages this connection has written to the file or its write-ahead log (<c>SQLITE_DBSTATUS_CACHE_WRITE</c>).</summary>
    private static int PagesWritten(SqliteConnection connection)
    {
        SQLitePCL.raw.sqlite3_db_status(connection.Handle, 9, out var pages, out _, 0);
        return pages;
    }

    /// <summary>
    /// What SQLite said when a read or write first found the file damaged (<c>database disk image is malformed</c>), or
    /// null. It stays until a restart, and every write is refused meanwhile: no wait mends a damaged file, and the
    /// readiness probe, which touches one page, went on saying ready while every run that wrote failed.
    /// </summary>
    public string? Damage => Volatile.Read(ref _damage);

    private string? _damage;

    private static bool IsDamage(SqliteException exception) =>
        exception.SqliteErrorCode is StoreErrors.SqliteCorrupt or StoreErrors.SqliteNotADatabase;

    /// <summary>The first damage found is kept: what a later read finds of the same file adds nothing.</summary>
    private void NoteDamage(string damage) => Interlocked.CompareExchange(ref _damage, damage, null);

    /// <summary>
    /// Reads every page of the file once (SQLite's <c>quick_check</c>) and notes the damage it finds, returning it: a
    /// file still damaged after a restart was otherwise said ready until a read or write met a damaged page.
    /// </summary>
    public Task<string?> CheckForDamageAsync(CancellationToken cancellationToken) =>
        ReadAsync(
            async connection =>
            {
                // A check of a large file is left at shutdown rather than waited for.
                using var interrupting = cancellationToken.Register(static handle => SQLitePCL.raw.sqlite3_interrupt((SQLitePCL.sqlite3)handle!), connection.Handle);
                await using var command = connection.CreateCommand();
                command.CommandText = "PRAGMA quick_check(1);";
                var result = Convert.ToString(await command.ExecuteScalarAsync(cancellationToken), System.Globalization.CultureInfo.InvariantCulture);
                if (result is "ok")
                {
                    return null;
                }

                // Its first finding, on one line, as a read's error would be.
                var damage = $"quick_check: {result?.ReplaceLineEndings(" ")}";
                NoteDamage(damage);
                return damage;
            },
            cancellationToken);

    private async Task<T> NotingDamageAsync<T>(Func<Task<T>> work)
    {
        try
        {
            return await work();
        }
        catch (SqliteException exception) when (IsDamage(exception))
        {
            NoteDamage(exception.Message);
            throw;
        }
    }

    /// <summary>How long a write refused for a full disk marks the store full (<see cref="IsFull"/>) without another refused.</summary>
    public static readonly TimeSpan FullFor = TimeSpan.FromSeconds(30);

    /// <summary>When (<see cref="Environment.TickCount64"/>) a write was last refused for a full disk; 0 once one succeeds.</summary>
    private long _fullAt;

    /// <summary>
    /// Whether a write was refused for a full disk (<c>SQLITE_FULL</c>) within <see cref="FullFor"/>, none having
    /// succeeded since: the readiness probe's own write test takes the lock and writes nothing, and passed on a full
    /// disk. Not for good: with no write coming (the gateway taken out of service for it), the mark lapses, and the next
    /// write says again.
    /// </summary>
    public bool IsFull => Volatile.Read(ref _fullAt) is var at && at != 0 && Environment.TickCount64 - at < FullFor.TotalMilliseconds;

    /// <summary>
    /// Refuses every write once the file has been deleted under the gateway (a reset by <c>rm gateway.db</c>), or
    /// replaced (a backup put back by <c>mv backup.db gateway.db</c>): the pooled connections still hold the old file
    /// open, so writes went on succeeding into it and were lost at the next start, without a word. Until the process
    /// restarts: a file put back in its place is not the one the connections and the old write-ahead log hold, and
    /// what was written between would be lost again. Reads are refused too: once the pool let its connections go, a
    /// read's new connection made an empty file at the path (and answered 500s), or read the copy. Called by readers
    /// and writers at once: the latch is only ever set.
    /// </summary>
    private void RefuseIfDeleted()
    {
        if (!Volatile.Read(ref _deleted) && _claim is not null)
        {
            lock (_seeing)
            {
                WatchTheFile();
                LatchIfItLeftItsPath();
            }
        }

        if (Volatile.Read(ref _deleted))
        {
            throw new StoreFileGoneException(
                $"The SQLite file '{DataSource}' was deleted or replaced while the gateway ran: what it wrote since went into the file it had open. Restart the gateway (after putting a copy back, if there is one).");
        }
    }

    /// <summary>Under <see cref="_seeing"/>: opens <see cref="_watch"/> on the file once it is seen at its path.</summary>
    private void WatchTheFile()
    {
        // Only a file seen at its path is watched: a name SQLite reads as a URI (file:gateway.db?mode=...) is not a path.
        if (_watch is not null || !File.Exists(DataSource))
        {
            return;
        }

        var watch = new SqliteConnection(_probeConnectionString);
        try
        {
            watch.Open();
            _watch = watch;
        }
        catch (SqliteException)
        {
            // Gone again, or not ours to open: looked at again at the next use.
            watch.Dispose();
        }
    }

    /// <summary>
    /// Under <see cref="_seeing"/>: once the watched file has left its path (one <c>stat</c> of the path), sets its
    /// write-ahead log aside and latches the refusal.
    /// </summary>
    private void LatchIfItLeftItsPath()
    {
        if (!_deleted && _watch is not null && SqliteFileIdentity.HasMoved(_watch))
        {
            SetAsideItsLog();
            Volatile.Write(ref _deleted, true);
        }
    }

    /// <summary>
    /// Moves the old file's write-ahead log (and its index) away from the path, as its file has left it: left there,
    /// the next start paired it with whatever file is at the path (a backup put back), and SQLite applied the old
    /// file's pages over it, a restore silently undone or a "database disk image is malformed". The old log, useless
    /// without its file, is kept beside it as <c>-wal.left-{time}</c> for whoever wants to look.
    /// </summary>
    private void SetAsideItsLog()
    {
        var stamp = DateTimeOffset.UtcNow.ToString("yyyyMMddTHHmmssZ", System.Globalization.CultureInfo.InvariantCulture);
        foreach (var suffix in (ReadOnlySpan<string>)["-wal", "-shm"])
        {
            try
            {
                File.Move(DataSource + suffix, $"{DataSource}{suffix}.left-{stamp}");
            }
            catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
            {
                // None there (the folder deleted with it), or not ours to move: nothing to pair with.
            }
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
            // The write-ahead log grows past its usual ~4 MB while a long read holds a checkpoint back, and without a
            // limit keeps that size on disk for good; with one, the next restart of the log cuts it back.
            pragmas.CommandText = $"PRAGMA busy_timeout = {(int)BusyTimeout.TotalMilliseconds}; PRAGMA synchronous = NORMAL; PRAGMA journal_size_limit = {WalSizeLimitBytes};";
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
        // A file that left its path since the last request (swapped, then the gateway stopped at once): its log is set
        // aside now, before the pool's connections close without a checkpoint and leave it there for the next start.
        lock (_seeing)
        {
            LatchIfItLeftItsPath();
        }

        using var connection = new SqliteConnection(_connectionString);
        SqliteConnection.ClearPool(connection);
        lock (_seeing)
        {
            _watch?.Dispose();
        }

        _claim?.Dispose();
    }
}
