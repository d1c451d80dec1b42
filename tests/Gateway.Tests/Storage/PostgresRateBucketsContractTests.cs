using Gateway.Security;
using Gateway.Storage;

namespace Gateway.Tests.Storage;

public sealed class PostgresRateBucketsContractTests : RateBucketsContractTests
{
    private PostgresDatabase? _database;

    private protected override async Task<IRateBuckets> OpenAsync()
    {
        _database = await PostgresStoreContractTests.OpenDatabaseAsync();
        return new PostgresRateBuckets(_database);
    }

    [Fact]
    public async Task TwoReplicasTakingAtOnce_ShareOneBucket()
    {
        await using var other = PostgresStoreContractTests.Open(_database!.DataSource.ConnectionString);
        IRateBuckets[] replicas = [new PostgresRateBuckets(_database), new PostgresRateBuckets(other)];

        var takes = await Task.WhenAll(Enumerable.Range(0, 60).Select(i =>
            replicas[i % 2].TryTakeAsync("key", 20, TimeSpan.FromHours(10), 1, CancellationToken.None).AsTask()));

        Assert.Equal(20, takes.Count(take => take.IsGranted));
    }

    public override async Task DisposeAsync()
    {
        if (_database is not null)
        {
            await _database.DisposeAsync();
        }
    }
}
