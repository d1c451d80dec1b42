using System.Data.Common;

namespace Gateway.Security;

/// <summary>
/// Buckets shared by every replica, with this replica's own buckets standing in while the shared ones cannot be
/// reached: a database outage then loosens a key's limits (each replica counts alone, up to N times the limit with N
/// replicas) instead of failing every request of every limited key, on /v1 too, which otherwise never needs the store.
/// </summary>
/// <remarks>
/// Once the shared buckets have failed, requests go to the local ones at once, and one request at a time (every
/// <see cref="RetryInterval"/>) tries the shared ones again. A database that does not answer (stalled, or its network
/// black-holed) made every request of a limited key wait out the command's timeout first: 5 to 10 s per /v1 call.
/// </remarks>
internal sealed partial class ResilientRateBuckets(IRateBuckets shared, LocalRateBuckets local, TimeProvider time, ILogger<ResilientRateBuckets> logger)
    : IRateBuckets
{
    public static readonly TimeSpan RetryInterval = TimeSpan.FromSeconds(5);

    private int _degraded;

    /// <summary>While degraded, the timestamp from which one request may try the shared buckets again.</summary>
    private long _retryAt;

    public async ValueTask<BucketTake> TryTakeAsync(string bucket, int capacity, TimeSpan window, long permits, CancellationToken cancellationToken)
    {
        if (!MayTryShared())
        {
            return await local.TryTakeAsync(bucket, capacity, window, permits, cancellationToken);
        }

        try
        {
            var take = await shared.TryTakeAsync(bucket, capacity, window, permits, cancellationToken);
            Recovered();
            return take;
        }
        catch (Exception exception) when (IsUnreachable(exception, cancellationToken))
        {
            Degraded(exception);
            return await local.TryTakeAsync(bucket, capacity, window, permits, cancellationToken);
        }
    }

    public async ValueTask AdjustAsync(string bucket, int capacity, TimeSpan window, long permits, CancellationToken cancellationToken)
    {
        if (!MayTryShared())
        {
            await local.AdjustAsync(bucket, capacity, window, permits, cancellationToken);
            return;
        }

        try
        {
            await shared.AdjustAsync(bucket, capacity, window, permits, cancellationToken);
            Recovered();
        }
        catch (Exception exception) when (IsUnreachable(exception, cancellationToken))
        {
            Degraded(exception);
            await local.AdjustAsync(bucket, capacity, window, permits, cancellationToken);
        }
    }

    /// <summary>Not degraded, or degraded and this caller is the one that tries the shared buckets again now.</summary>
    private bool MayTryShared()
    {
        if (Volatile.Read(ref _degraded) == 0)
        {
            return true;
        }

        var retryAt = Volatile.Read(ref _retryAt);
        var now = time.GetTimestamp();
        return now >= retryAt && Interlocked.CompareExchange(ref _retryAt, now + Interval, retryAt) == retryAt;
    }

    private long Interval => (long)(RetryInterval.TotalSeconds * time.TimestampFrequency);

    private static bool IsUnreachable(Exception exception, CancellationToken cancellationToken) =>
        exception is DbException or TimeoutException or IOException
        || (exception is OperationCanceledException && !cancellationToken.IsCancellationRequested);

    /// <summary>Logged once per outage, not per request.</summary>
    private void Degraded(Exception exception)
    {
        Volatile.Write(ref _retryAt, time.GetTimestamp() + Interval);
        if (Interlocked.Exchange(ref _degraded, 1) == 0)
        {
            LogDegraded(logger, exception);
        }
    }

    private void Recovered()
    {
        if (Volatile.Read(ref _degraded) == 1 && Interlocked.Exchange(ref _degraded, 0) == 1)
        {
            LogRecovered(logger);
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "The shared rate-limit buckets cannot be reached; each replica limits keys on its own until they can")]
    private static partial void LogDegraded(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Information, Message = "The shared rate-limit buckets can be reached again")]
    private static partial void LogRecovered(ILogger logger);
}
