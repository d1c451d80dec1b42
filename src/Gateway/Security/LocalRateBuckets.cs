using System.Collections.Concurrent;

namespace Gateway.Security;

/// <summary>The buckets of one replica, in memory: exact for one process, and all a gateway on SQLite needs.</summary>
internal sealed class LocalRateBuckets(TimeProvider time) : IRateBuckets
{
    private readonly ConcurrentDictionary<string, TokenBucket> _buckets = new(StringComparer.Ordinal);

    public ValueTask<BucketTake> TryTakeAsync(string bucket, int capacity, TimeSpan window, long permits, CancellationToken cancellationToken) =>
        ValueTask.FromResult(Get(bucket, capacity, window).TryTake(permits));

    public ValueTask AdjustAsync(string bucket, int capacity, TimeSpan window, long permits, CancellationToken cancellationToken)
    {
        Get(bucket, capacity, window).Adjust(permits);
        return ValueTask.CompletedTask;
    }

    /// <summary>Buckets exist per configured key and limit, so they are few and kept for the life of the process.</summary>
    private TokenBucket Get(string bucket, int capacity, TimeSpan window) =>
        _buckets.GetOrAdd(bucket, static (_, state) => new TokenBucket(state.capacity, state.window, state.time), (capacity, window, time));
}
