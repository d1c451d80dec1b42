using System.Collections.Concurrent;
using System.Threading.RateLimiting;

namespace Gateway.Security;

/// <summary>
/// Each key's <c>TokensPerMinute</c>. A model call reserves an estimate before it starts and settles with the
/// usage the model reported when it ends, so the budget counts real tokens while never letting a burst of
/// calls overrun it on optimism.
/// </summary>
internal sealed class TokenBudgets(ApiKeyStore keys, TimeProvider time)
{
    private readonly ConcurrentDictionary<string, TokenBucket> _buckets = new(StringComparer.Ordinal);

    /// <summary>Reserves <paramref name="estimatedTokens"/> from the key's budget; see <see cref="TokenReservation.IsGranted"/>.</summary>
    public TokenReservation Reserve(string keyName, int estimatedTokens)
    {
        if (keys.Get(keyName) is not { TokensPerMinute: { } perMinute })
        {
            return TokenReservation.Unlimited;
        }

        var bucket = _buckets.GetOrAdd(keyName, _ => new TokenBucket(perMinute, TimeSpan.FromMinutes(1), time));
        using var lease = bucket.AttemptAcquire(estimatedTokens);
        if (lease.IsAcquired)
        {
            return new TokenReservation(bucket, estimatedTokens, TimeSpan.Zero);
        }

        lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter);
        return new TokenReservation(null, 0, retryAfter);
    }
}

/// <summary>Tokens set aside for one model call; settled once, with the usage the model reported.</summary>
internal sealed class TokenReservation(TokenBucket? bucket, int reserved, TimeSpan retryAfter)
{
    private int _settled;

    public static TokenReservation Unlimited { get; } = new(null, 0, TimeSpan.Zero) { IsGranted = true };

    public bool IsGranted { get; private init; } = bucket is not null;

    /// <summary>When a denied reservation could be granted.</summary>
    public TimeSpan RetryAfter { get; } = retryAfter;

    /// <summary>
    /// Replaces the estimate with what the call really used: the difference is given back or charged. A call whose
    /// usage is never known (the caller left, the stream broke) keeps its estimate; a call that failed before the
    /// model answered settles with 0.
    /// </summary>
    public void Settle(long usedTokens)
    {
        if (bucket is not null && Interlocked.Exchange(ref _settled, 1) == 0)
        {
            bucket.Adjust(reserved - usedTokens);
        }
    }
}
