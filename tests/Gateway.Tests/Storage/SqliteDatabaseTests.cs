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

    public void Dispose()
    {
        _database.Dispose();
        GatewayHost.DeleteDatabase(_path);
    }
}
