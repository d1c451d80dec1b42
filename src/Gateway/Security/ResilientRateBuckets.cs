using System.Data.Common;

namespace Gateway.Security;

/// <summary>
/// Buckets shared by every replica, with this replica's own buckets standing in while the shared ones cannot be
/// reached: a database outage then loosens a key's limits (each replica counts alone, up to N times the limit with N
/// replicas) instead of failing every request of every limited key, on /v1 too, which otherwise never needs the store.
/// </summary>
internal sealed partial class ResilientRateBuckets(IRateBuckets shared, LocalRateBuckets local, ILogger<ResilientRateBuckets> logger) : IRateBuckets
{
    private int _degraded;

    public async ValueTask<TimeSpan?> TryTakeAsync(string bucket, int capacity, TimeSpan window, long permits, CancellationToken cancellationToken)
    {
        try
        {
            var retryAfter = await shared.TryTakeAsync(bucket, capacity, window, permits, cancellationToken);
            Recovered();
            return retryAfter;
        }
        catch (Exception exception) when (IsUnreachable(exception, cancellationToken))
        {
            Degraded(exception);
            return await local.TryTakeAsync(bucket, capacity, window, permits, cancellationToken);
        }
    }

    public async ValueTask AdjustAsync(string bucket, int capacity, TimeSpan window, long permits, CancellationToken cancellationToken)
    {
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

    private static bool IsUnreachable(Exception exception, CancellationToken cancellationToken) =>
        exception is DbException or TimeoutException or IOException
        || (exception is OperationCanceledException && !cancellationToken.IsCancellationRequested);

    /// <summary>Logged once per outage, not per request.</summary>
    private void Degraded(Exception exception)
    {
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
