using Gateway.Flows;
using Gateway.Runs;
using Gateway.Storage;
using Gateway.Tests.Infrastructure;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;

namespace Gateway.Tests.Storage;

public sealed class SqliteStoreContractTests : StoreContractTests
{
    private readonly string _path = GatewayHost.NewDatabasePath();
    private SqliteDatabase? _database;

    private protected override async Task<(IFlowStore Flows, IRunStore Runs)> OpenAsync()
    {
        _database = new SqliteDatabase(Options.Create(new StorageOptions { ConnectionString = GatewayHost.ConnectionString(_path) }));
        await new SqliteSchema(_database).MigrateAsync(CancellationToken.None);
        return (new SqliteFlowStore(_database), new SqliteRunStore(_database));
    }

    private protected override Task ClearLeaseAsync(string runId) =>
        _database!.WriteAsync(async (connection, transaction) =>
        {
            await using var command = new SqliteCommand("UPDATE runs SET replica = NULL, lease_expires_at = NULL WHERE run_id = $id;", connection, transaction);
            command.Parameters.AddWithValue("$id", runId);
            await command.ExecuteNonQueryAsync();
        }, CancellationToken.None);

    public override Task DisposeAsync()
    {
        _database?.Dispose();
        GatewayHost.DeleteDatabase(_path);
        return Task.CompletedTask;
    }
}
