namespace Gateway.Security;

/// <summary>
/// A token bucket that refills continuously, <c>capacity</c> permits per <c>window</c>, and reads time from a
/// <see cref="TimeProvider"/> (the framework's limiters read the Stopwatch, so a test clock cannot drive them).
/// It can also be settled: permits taken as an estimate are given back, or charged further, into debt, once the
/// real cost is known.
/// </summary>
internal sealed class TokenBucket
{
    private readonly Lock _gate = new();
    private readonly TimeProvider _time;
    private readonly double _capacity;
    private readonly double _permitsPerSecond;
    private double _available;
    private long _updatedAt;

    public TokenBucket(int capacity, TimeSpan window, TimeProvider time)
        : this(capacity, window, time, available: capacity)
    {
    }

    /// <summary>A bucket that holds <paramref name="available"/> permits now (below 0 in debt), as a take found one.</summary>
    public TokenBucket(int capacity, TimeSpan window, TimeProvider time, double available)
    {
        _time = time;
        _capacity = capacity;
        _permitsPerSecond = capacity / window.TotalSeconds;
        _available = available;
        _updatedAt = time.GetTimestamp();
    }

    /// <summary>The permits it holds now (below 0 in debt), and how long until it is full again (<see cref="WaitFor"/>).</summary>
    public (double Available, TimeSpan UntilFull) Read()
    {
        lock (_gate)
        {
            Refill();
            return (_available, WaitFor(_capacity - _available, _permitsPerSecond));
        }
    }

    /// <summary>
    /// Takes <paramref name="permits"/>. More than the bucket holds is granted from a full bucket (and leaves it in
    /// debt) rather than never. Nothing waits in a queue: a caller over its limit is told when to come back.
    /// </summary>
    public BucketTake TryTake(long permits)
    {
        lock (_gate)
        {
            Refill();
            var needed = Math.Min(permits, _capacity);
            if (_available >= needed)
            {
                _available -= permits;
                return new BucketTake(null, _available);
            }

            return new BucketTake(WaitFor(needed - _available, _permitsPerSecond), _available);
        }
    }

    /// <summary>The longest wait a bucket names: a debt however deep is a long wait, never a time that overflows.</summary>
    public static readonly TimeSpan LongestWait = TimeSpan.FromDays(365);

    /// <summary>
    /// How long until <paramref name="deficit"/> permits have refilled at <paramref name="permitsPerSecond"/>, rounded up
    /// to the millisecond, at most <see cref="LongestWait"/>. Unbounded, a debt of ~1e15 (an upstream's absurd usage,
    /// settled) overflowed <see cref="TimeSpan"/>, and every later call of the key was a 500. Not to the second: the
    /// OpenAI SDKs wait what <c>retry-after-ms</c> says, and a key allowed 600 requests a minute, told 1000 where 100 was
    /// due, waited ten times too long (<c>Retry-After</c> itself is whole seconds, rounded up where it is written).
    /// </summary>
    public static TimeSpan WaitFor(double deficit, double permitsPerSecond) =>
        TimeSpan.FromMilliseconds(Math.Min(Math.Ceiling(Math.Round(deficit / permitsPerSecond * 1000, 3)), LongestWait.TotalMilliseconds));

    /// <summary>Gives back (positive) or charges (negative) permits once the real cost of a take is known.</summary>
    public void Adjust(long permits)
    {
        lock (_gate)
        {
            Refill();
            _available = Math.Min(_capacity, _available + permits);
        }
    }

    private void Refill()
    {
        var now = _time.GetTimestamp();
        _available = Math.Min(_capacity, _available + (_time.GetElapsedTime(_updatedAt, now).TotalSeconds * _permitsPerSecond));
        _updatedAt = now;
    }
}
