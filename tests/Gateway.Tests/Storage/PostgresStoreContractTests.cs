using Gateway.Flows;
using Gateway.Runs;
using Gateway.Storage;
using Gateway.Tests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Gateway.Tests.Storage;

public sealed class PostgresStoreContractTests : StoreContractTests
{
    private PostgresDatabase? _database;

    private protected override async Task<(IFlowStore Flows, IRunStore Runs)> OpenAsync()
    {
        _database = await OpenDatabaseAsync();
        return (new PostgresFlowStore(_database), new PostgresRunStore(_database, new PostgresEventNotices(_database, NullLogger<PostgresEventNotices>.Instance)));
    }

    /// <summary>A fresh database on the test server, migrated.</summary>
    internal static async Task<PostgresDatabase> OpenDatabaseAsync()
    {
        var database = Open(await PostgresServer.CreateDatabaseAsync());
        await new PostgresSchema(database).MigrateAsync(CancellationToken.None);
        return database;
    }

    internal static PostgresDatabase Open(string connectionString) =>
        new(Options.Create(new StorageOptions { Provider = StorageOptions.Postgres, ConnectionString = connectionString }));

    private protected override async Task ClearLeaseAsync(string runId)
    {
        await using var command = _database!.DataSource.CreateCommand("UPDATE runs SET replica = NULL, lease_expires_at = NULL WHERE run_id = $1;");
        command.Parameters.AddWithValue(runId);
        await command.ExecuteNonQueryAsync();
    }

    public override async Task DisposeAsync()
    {
        if (_database is not null)
        {
            await _database.DisposeAsync();
        }
    }
}
