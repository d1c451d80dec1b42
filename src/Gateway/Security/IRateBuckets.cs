namespace Gateway.Security;

/// <summary>
/// Per-key token buckets, each holding <c>capacity</c> permits and refilling that many per <c>window</c>,
/// continuously. Kept in this process (<see cref="LocalRateBuckets"/>), or in a store that every replica shares so
/// that a key's limits hold across all of them.
/// </summary>
internal interface IRateBuckets
{
    /// <summary>
    /// Takes <paramref name="permits"/> from the bucket named <paramref name="bucket"/> (made full on first use). More
    /// than the capacity is granted from a full bucket, which is left in debt, rather than never.
    /// </summary>
    ValueTask<BucketTake> TryTakeAsync(string bucket, int capacity, TimeSpan window, long permits, CancellationToken cancellationToken);

    /// <summary>Gives back (positive) or charges (negative, into debt) permits once a cost is known; never above capacity.</summary>
    ValueTask AdjustAsync(string bucket, int capacity, TimeSpan window, long permits, CancellationToken cancellationToken);
}

/// <summary>What a take found, read in the same step as the take (one statement on PostgreSQL).</summary>
/// <param name="RetryAfter">Null when granted; otherwise how long until the permits could be.</param>
/// <param name="Available">
/// The permits the bucket held once the take was answered: after it when granted (below 0 in debt), refilled and untouched
/// when denied. What the caller is told of its limit (the <c>x-ratelimit-*</c> headers) comes from it, not from another read.
/// </param>
internal readonly record struct BucketTake(TimeSpan? RetryAfter, double Available)
{
    public bool IsGranted => RetryAfter is null;
}
