using Gateway.Storage;
using Gateway.Tests.Infrastructure;
using Microsoft.Extensions.Options;

namespace Gateway.Tests.Storage;

public sealed class SqliteDatabaseTests : IDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    private readonly string _path = GatewayHost.NewDatabasePath();
    private readonly SqliteDatabase _database;

    public SqliteDatabaseTests() =>
        _database = new SqliteDatabase(Options.Create(new StorageOptions { ConnectionString = GatewayHost.ConnectionString(_path) }));

    [Fact]
    public async Task Read_WorkThatBlocks_ReturnsToTheCallerAtOnce()
    {
        using var release = new ManualResetEventSlim();

        var read = _database.ReadAsync(_ => Task.FromResult(release.Wait(Patience)), CancellationToken.None);

        Assert.False(read.IsCompleted);
        release.Set();
        Assert.True(await read);
    }

    [Fact]
    public async Task Write_WorkThatBlocks_ReturnsToTheCallerAtOnce()
    {
        using var release = new ManualResetEventSlim();

        var write = _database.WriteAsync((_, _) => Task.FromResult(release.Wait(Patience)), CancellationToken.None);

        Assert.False(write.IsCompleted);
        release.Set();
        Assert.True(await write);
    }

    /// <summary>
    /// Writes made in a run's key's lane take turns with other keys' writes: the other key's write comes after one of
    /// the busy key's queued writes, not after all of them (as it did behind the first-come writer until 2026-12-06).
    /// </summary>
    [Fact]
    public async Task AnotherKeysWrite_TakesItsTurnBetweenABusyKeysQueuedWrites()
    {
        using var release = new ManualResetEventSlim();
        var order = new System.Collections.Concurrent.ConcurrentQueue<string>();
        Task Write(string lane, string name, bool hold = false)
        {
            using var scope = StoreWriteLane.Enter(lane);
            return _database.WriteAsync(
                (_, _) =>
                {
                    order.Enqueue(name);
                    return Task.FromResult(!hold || release.Wait(Patience));
                },
                CancellationToken.None);
        }

        var writes = new List<Task> { Write("busy", "busy0", hold: true) };
        await WaitUntilAsync(() => !order.IsEmpty);
        foreach (var (lane, name) in new[] { ("busy", "busy1"), ("busy", "busy2"), ("busy", "busy3"), ("other", "other") })
        {
            // One at a time, so that their places in the queue are known.
            writes.Add(Write(lane, name));
            await WaitUntilAsync(() => _database.WritesWaiting == writes.Count - 1);
        }

        release.Set();
        await Task.WhenAll(writes).WaitAsync(Patience);

        Assert.Equal(["busy0", "busy1", "other", "busy2", "busy3"], order);
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        using var timeout = new CancellationTokenSource(Patience);
        while (!condition())
        {
            await Task.Delay(5, timeout.Token);
        }
    }

    /// <summary>
    /// A read held open while 24 MB are written keeps every frame in the write-ahead log. Once it ends, the log is
    /// checkpointed and restarted, and cut back to its limit; until 2026-12-06 (night) it kept its 24 MB on disk for good.
    /// </summary>
    [Fact]
    public async Task AWriteAheadLogGrownBehindALongRead_IsCutBackOnceTheReadEnds()
    {
        await _database.ExecuteOutsideTransactionAsync(connection => ExecuteAsync(connection, "PRAGMA journal_mode = WAL;"), CancellationToken.None);
        await _database.WriteAsync((connection, _) => ExecuteAsync(connection, "CREATE TABLE blobs (data BLOB NOT NULL);"), CancellationToken.None);

        await using (var reader = new Microsoft.Data.Sqlite.SqliteConnection(GatewayHost.ConnectionString(_path)))
        {
            await reader.OpenAsync();
            await using var read = reader.BeginTransaction(deferred: true);
            await using (var select = reader.CreateCommand())
            {
                select.CommandText = "SELECT count(*) FROM blobs;";
                await select.ExecuteScalarAsync(); // the read's snapshot: no checkpoint may pass it
            }

            for (var i = 0; i < 24; i++)
            {
                await _database.WriteAsync((connection, _) => ExecuteAsync(connection, "INSERT INTO blobs VALUES (randomblob(1048576));"), CancellationToken.None);
            }

            Assert.True(new FileInfo(_path + "-wal").Length > 24L * 1024 * 1024, "the log should hold every write behind the read");
        }

        // The first commit after the read checkpoints the whole log; the next one starts it over, and cuts it back.
        await _database.WriteAsync((connection, _) => ExecuteAsync(connection, "DELETE FROM blobs;"), CancellationToken.None);
        await _database.WriteAsync((connection, _) => ExecuteAsync(connection, "INSERT INTO blobs VALUES (x'00');"), CancellationToken.None);

        Assert.InRange(new FileInfo(_path + "-wal").Length, 0, SqliteDatabase.WalSizeLimitBytes);
    }

    /// <summary>
    /// SQLite opens a file it may not write read-only, without a word, and the pool keeps the connection: once the file
    /// could be written again (a read-only spell over), writes went on failing on such connections for minutes, while
    /// the readiness probe, on a connection of its own, said ready. A write refused as read-only now empties the pool.
    /// (Here a pooled connection made read-only by <c>PRAGMA query_only</c> stands for one opened on a read-only file:
    /// as root, which the tests run as, no file is read-only.)
    /// </summary>
    [Fact]
    public async Task AWriteRefusedAsReadOnly_LeavesNoReadOnlyConnectionInThePool()
    {
        await _database.WriteAsync((connection, _) => ExecuteAsync(connection, "CREATE TABLE notes (note TEXT);"), CancellationToken.None);
        await _database.ReadAsync(connection => ExecuteAsync(connection, "PRAGMA query_only = ON;"), CancellationToken.None);

        var refused = await Assert.ThrowsAsync<Microsoft.Data.Sqlite.SqliteException>(() =>
            _database.WriteAsync((connection, _) => ExecuteAsync(connection, "INSERT INTO notes VALUES ('refused');"), CancellationToken.None));
        await _database.WriteAsync((connection, _) => ExecuteAsync(connection, "INSERT INTO notes VALUES ('written');"), CancellationToken.None);

        Assert.Equal(StoreErrors.SqliteReadOnly, refused.SqliteErrorCode);
        Assert.Equal("written", await _database.ReadAsync(connection => ScalarAsync(connection, "SELECT group_concat(note) FROM notes;"), CancellationToken.None));
    }

    /// <summary>
    /// A write refused for want of disk space marks the store full, which the readiness probe says (its own write test
    /// takes the lock and writes nothing, and passed on a full disk: ready, while every write failed), until a write
    /// succeeds. (Here <c>PRAGMA max_page_count</c> on the pooled connection stands for the disk.)
    /// </summary>
    [Fact]
    public async Task AWriteRefusedForAFullDisk_MakesTheStoreUnready_UntilAWriteSucceeds()
    {
        var schema = new SqliteSchema(_database);
        await schema.MigrateAsync(CancellationToken.None);
        var check = new StorageHealthCheck(schema);
        await _database.WriteAsync((connection, _) => ExecuteAsync(connection, "CREATE TABLE blobs (data BLOB);"), CancellationToken.None);
        await _database.WriteAsync((connection, _) => ExecuteAsync(connection, "INSERT INTO blobs VALUES (x'01');"), CancellationToken.None);
        var pages = await _database.ReadAsync(connection => ScalarAsync(connection, "PRAGMA page_count;"), CancellationToken.None);
        await _database.ReadAsync(connection => ExecuteAsync(connection, $"PRAGMA max_page_count = {pages};"), CancellationToken.None);

        var refused = await Assert.ThrowsAsync<Microsoft.Data.Sqlite.SqliteException>(() =>
            _database.WriteAsync((connection, _) => ExecuteAsync(connection, "INSERT INTO blobs VALUES (randomblob(65536));"), CancellationToken.None));
        // A write that changes nothing commits on a full disk too, a row updated to what it was included: it says
        // nothing of the room (until 2026-12-07 it cleared the mark, and a flow saved unchanged kept the gateway ready
        // through an outage).
        await _database.WriteAsync((connection, _) => ExecuteAsync(connection, "DELETE FROM blobs WHERE 0;"), CancellationToken.None);
        await _database.WriteAsync((connection, _) => ExecuteAsync(connection, "UPDATE blobs SET data = data;"), CancellationToken.None);
        var whileFull = await check.CheckHealthAsync(new Microsoft.Extensions.Diagnostics.HealthChecks.HealthCheckContext());
        await _database.ReadAsync(connection => ExecuteAsync(connection, "PRAGMA max_page_count = 1073741823;"), CancellationToken.None);
        await _database.WriteAsync((connection, _) => ExecuteAsync(connection, "INSERT INTO blobs VALUES (randomblob(65536));"), CancellationToken.None);
        var afterAWrite = await check.CheckHealthAsync(new Microsoft.Extensions.Diagnostics.HealthChecks.HealthCheckContext());

        Assert.Equal(StoreErrors.SqliteFull, refused.SqliteErrorCode);
        Assert.Equal(Microsoft.Extensions.Diagnostics.HealthChecks.HealthStatus.Unhealthy, whileFull.Status);
        Assert.Equal($"SQLite '{_path}' is full: a write was refused for want of disk space ('database or disk is full') within the last 30 s.", whileFull.Description);
        Assert.Equal(Microsoft.Extensions.Diagnostics.HealthChecks.HealthStatus.Healthy, afterAWrite.Status);
    }

    /// <summary>
    /// A file damaged under the gateway (pages overwritten: a disk fault, a copy taken mid-write): a read or a write that
    /// finds it makes the store unready until a restart, saying what to do, and every write is refused meanwhile (its
    /// restore from a backup would lose them), where the probe, which touches one page, went on saying ready while every
    /// run that wrote failed (until 2026-12-07).
    /// </summary>
    [Theory]
    [InlineData("SELECT sum(length(data)) FROM blobs;")]
    [InlineData("UPDATE blobs SET data = zeroblob(1000);")]
    public async Task AFileFoundDamaged_MakesTheStoreUnready_SayingToRestoreIt_AndRefusesWrites(string finding)
    {
        var schema = new SqliteSchema(_database);
        await schema.MigrateAsync(CancellationToken.None);
        var check = new StorageHealthCheck(schema);
        await _database.WriteAsync((connection, _) => ExecuteAsync(connection, "CREATE TABLE blobs (data BLOB);"), CancellationToken.None);
        await _database.WriteAsync(
            (connection, _) => ExecuteAsync(connection, "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 400) INSERT INTO blobs SELECT randomblob(1000) FROM n;"),
            CancellationToken.None);
        await _database.ExecuteOutsideTransactionAsync(connection => ExecuteAsync(connection, "PRAGMA wal_checkpoint(TRUNCATE);"), CancellationToken.None);
        var before = await check.CheckHealthAsync(new Microsoft.Extensions.Diagnostics.HealthChecks.HealthCheckContext());
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        await using (var file = new FileStream(_path, FileMode.Open, FileAccess.Write, FileShare.ReadWrite))
        {
            // Past the header and the schema's pages, into the table's.
            file.Position = 16 * 4096;
            file.Write(System.Security.Cryptography.RandomNumberGenerator.GetBytes(64 * 4096));
        }

        var damaged = await Assert.ThrowsAsync<Microsoft.Data.Sqlite.SqliteException>(() => finding.StartsWith("SELECT", StringComparison.Ordinal)
            ? _database.ReadAsync(connection => ScalarAsync(connection, finding), CancellationToken.None)
            : _database.WriteAsync((connection, _) => ExecuteAsync(connection, finding), CancellationToken.None));
        var after = await check.CheckHealthAsync(new Microsoft.Extensions.Diagnostics.HealthChecks.HealthCheckContext());
        // A write to no damaged page at all: refused as well.
        var refused = await Assert.ThrowsAsync<Microsoft.Data.Sqlite.SqliteException>(() =>
            _database.WriteAsync((connection, _) => ExecuteAsync(connection, "CREATE TABLE after_the_damage (x INTEGER);"), CancellationToken.None));

        Assert.Equal(Microsoft.Extensions.Diagnostics.HealthChecks.HealthStatus.Healthy, before.Status);
        Assert.Equal(StoreErrors.SqliteCorrupt, damaged.SqliteErrorCode);
        Assert.Equal(Microsoft.Extensions.Diagnostics.HealthChecks.HealthStatus.Unhealthy, after.Status);
        Assert.Equal(
            $"SQLite '{_path}' is damaged (SQLite Error 11: 'database disk image is malformed'.): restore it from a backup, then restart the gateway.",
            after.Description);
        Assert.Equal((StoreErrors.SqliteCorrupt, damaged.Message), (refused.SqliteErrorCode, refused.Message));
    }

    private static async Task<string> ScalarAsync(Microsoft.Data.Sqlite.SqliteConnection connection, string sql)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        return Convert.ToString(await command.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture)!;
    }

    private static async Task ExecuteAsync(Microsoft.Data.Sqlite.SqliteConnection connection, string sql)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync();
    }

    public void Dispose()
    {
        _database.Dispose();
        GatewayHost.DeleteDatabase(_path);
    }
}
