using Gateway.Security;

namespace Gateway.Storage;

/// <summary>
/// Token buckets in the shared database, so that a key's limits hold across every replica. Each take is one atomic
/// statement timed by the database's clock (the replicas' clocks may disagree); the arithmetic is
/// <see cref="TokenBucket"/>'s: refill continuously up to the capacity, grant when the bucket holds
/// min(permits, capacity), then subtract every permit, into debt if need be.
/// </summary>
internal sealed class PostgresRateBuckets(PostgresDatabase database) : IRateBuckets
{
    // The bucket refilled up to now. The proposed row's updated_at is the statement's reading of the clock, taken
    // before it waited for the row lock: a take committed meanwhile may be later still, so time never runs backwards.
    private const string Refilled =
        "least(@capacity, b.available + greatest(0, extract(epoch FROM excluded.updated_at - b.updated_at)::double precision) * @rate)";

    public async ValueTask<BucketTake> TryTakeAsync(string bucket, int capacity, TimeSpan window, long permits, CancellationToken cancellationToken)
    {
        var rate = capacity / window.TotalSeconds;
        var needed = Math.Min(permits, capacity);
        // A first take finds the bucket full, and a full bucket grants any take. What it returns, the bucket as the take
        // left it, is all the caller's x-ratelimit-* headers need: they cost no further statement.
        await using (var take = database.DataSource.Command(
            $"""
            INSERT INTO rate_buckets AS b (name, available, updated_at) VALUES (@name, @capacity - @permits, clock_timestamp())
            ON CONFLICT (name) DO UPDATE SET available = {Refilled} - @permits, updated_at = greatest(b.updated_at, excluded.updated_at)
            WHERE {Refilled} >= @needed
            RETURNING available;
            """,
            ("name", bucket), ("capacity", (double)capacity), ("rate", rate), ("permits", (double)permits), ("needed", (double)needed)))
        {
            if (await take.ExecuteScalarAsync(cancellationToken) is double left)
            {
                return new BucketTake(null, left);
            }
        }

        // Denied, so nothing was written: read how far the bucket is from granting, for Retry-After (at least a second,
        // should another take have refilled it meanwhile). A bucket gone meanwhile is a full one.
        await using var read = database.DataSource.Command(
            """
            SELECT least(@capacity, available + greatest(0, extract(epoch FROM clock_timestamp() - updated_at)::double precision) * @rate)
            FROM rate_buckets WHERE name = @name;
            """,
            ("name", bucket), ("capacity", (double)capacity), ("rate", rate));
        var available = await read.ExecuteScalarAsync(cancellationToken) is double refilled ? refilled : capacity;
        return new BucketTake(available < needed ? TokenBucket.WaitFor(needed - available, rate) : TimeSpan.FromSeconds(1), available);
    }

    public async ValueTask AdjustAsync(string bucket, int capacity, TimeSpan window, long permits, CancellationToken cancellationToken)
    {
        await using var adjust = database.DataSource.Command(
            $"""
            INSERT INTO rate_buckets AS b (name, available, updated_at) VALUES (@name, least(@capacity, @capacity + @permits), clock_timestamp())
            ON CONFLICT (name) DO UPDATE SET available = least(@capacity, {Refilled} + @permits), updated_at = greatest(b.updated_at, excluded.updated_at);
            """,
            ("name", bucket), ("capacity", (double)capacity), ("rate", capacity / window.TotalSeconds), ("permits", (double)permits));
        await adjust.ExecuteNonQueryAsync(cancellationToken);
    }
}
