using System.Threading.RateLimiting;

namespace Gateway.Security;

/// <summary>
/// A token bucket that refills continuously, <c>capacity</c> permits per <c>window</c>, and reads time from a
/// <see cref="TimeProvider"/> (the framework's limiters read the Stopwatch, so a test clock cannot drive them).
/// It can also be settled: permits taken as an estimate are given back, or charged further, into debt, once the
/// real cost is known.
/// </summary>
internal sealed class TokenBucket : RateLimiter
{
    private readonly Lock _gate = new();
    private readonly TimeProvider _time;
    private readonly double _capacity;
    private readonly double _permitsPerSecond;
    private double _available;
    private long _updatedAt;

    public TokenBucket(int capacity, TimeSpan window, TimeProvider time)
    {
        _time = time;
        _capacity = capacity;
        _permitsPerSecond = capacity / window.TotalSeconds;
        _available = capacity;
        _updatedAt = time.GetTimestamp();
    }

    /// <summary>Buckets exist per configured key, so they are few and kept for the life of the process.</summary>
    public override TimeSpan? IdleDuration => null;

    public override RateLimiterStatistics? GetStatistics()
    {
        lock (_gate)
        {
            Refill();
            return new RateLimiterStatistics { CurrentAvailablePermits = (long)Math.Floor(_available) };
        }
    }

    /// <summary>Gives back (positive) or charges (negative) permits once the real cost of an acquisition is known.</summary>
    public void Adjust(long permits)
    {
        lock (_gate)
        {
            Refill();
            _available = Math.Min(_capacity, _available + permits);
        }
    }

    protected override RateLimitLease AttemptAcquireCore(int permitCount)
    {
        lock (_gate)
        {
            Refill();
            // More than the bucket holds is granted from a full bucket (and leaves it in debt) rather than never.
            var needed = Math.Min(permitCount, _capacity);
            if (_available >= needed)
            {
                _available -= permitCount;
                return Lease.Acquired;
            }

            return new Lease(TimeSpan.FromSeconds(Math.Ceiling((needed - _available) / _permitsPerSecond)));
        }
    }

    /// <summary>Nothing waits in a queue: a caller over its limit is told when to come back.</summary>
    protected override ValueTask<RateLimitLease> AcquireAsyncCore(int permitCount, CancellationToken cancellationToken) =>
        ValueTask.FromResult(AttemptAcquireCore(permitCount));

    private void Refill()
    {
        var now = _time.GetTimestamp();
        _available = Math.Min(_capacity, _available + (_time.GetElapsedTime(_updatedAt, now).TotalSeconds * _permitsPerSecond));
        _updatedAt = now;
    }

    private sealed class Lease(TimeSpan? retryAfter) : RateLimitLease
    {
        public static readonly Lease Acquired = new(null);

        public override bool IsAcquired => retryAfter is null;

        public override IEnumerable<string> MetadataNames => retryAfter is null ? [] : [MetadataName.RetryAfter.Name];

        public override bool TryGetMetadata(string metadataName, out object? metadata)
        {
            metadata = retryAfter;
            return retryAfter is not null && metadataName == MetadataName.RetryAfter.Name;
        }
    }
}
