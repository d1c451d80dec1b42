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
    /// <returns>Null when granted; otherwise how long until the permits could be.</returns>
    ValueTask<TimeSpan?> TryTakeAsync(string bucket, int capacity, TimeSpan window, long permits, CancellationToken cancellationToken);

    /// <summary>Gives back (positive) or charges (negative, into debt) permits once a cost is known; never above capacity.</summary>
    ValueTask AdjustAsync(string bucket, int capacity, TimeSpan window, long permits, CancellationToken cancellationToken);
}
