using Microsoft.Extensions.AI;

namespace Gateway.Security;

/// <summary>
/// Each key's <c>TokensPerMinute</c>. A model call reserves an estimate before it starts and settles with the
/// usage the model reported when it ends, so the budget counts real tokens while never letting a burst of
/// calls overrun it on optimism. The buckets are <see cref="IRateBuckets"/>: shared by every replica on PostgreSQL.
/// </summary>
internal sealed class TokenBudgets(ApiKeyStore keys, IRateBuckets buckets, TimeProvider time, ILogger<TokenBudgets> logger)
{
    private static readonly TimeSpan Window = TimeSpan.FromMinutes(1);

    /// <summary>
    /// Reserves a call's estimate (<see cref="TokenEstimate.For"/>) from the key's budget; see <see cref="TokenReservation.IsGranted"/>.
    /// </summary>
    public ValueTask<TokenReservation> ReserveAsync(string keyName, IEnumerable<string?> promptTexts, int? maxCompletionTokens, CancellationToken cancellationToken)
    {
        if (keys.Get(keyName) is not { TokensPerMinute: not null })
        {
            return ValueTask.FromResult(TokenReservation.Unlimited);
        }

        var prompt = TokenEstimate.Prompt(promptTexts);
        return ReserveAsync(keyName, TokenEstimate.WithCompletion(prompt, maxCompletionTokens), prompt, cancellationToken);
    }

    /// <summary>
    /// Reserves a chat call's estimate, its prompt counted (<see cref="PromptText"/>) only for a key with a budget: the
    /// count walks every message and function schema, which a key without one never needs before the call.
    /// </summary>
    public ValueTask<TokenReservation> ReserveAsync(string keyName, IReadOnlyList<ChatMessage> messages, ChatOptions options, CancellationToken cancellationToken)
    {
        if (keys.Get(keyName) is not { TokensPerMinute: not null })
        {
            return ValueTask.FromResult(TokenReservation.Unlimited);
        }

        var prompt = TokenEstimate.Prompt(PromptText.Characters(messages, options));
        return ReserveAsync(keyName, TokenEstimate.WithCompletion(prompt, options.MaxOutputTokens), prompt, cancellationToken);
    }

    /// <param name="keyName">The caller's key.</param>
    /// <param name="estimatedTokens">What to reserve.</param>
    /// <param name="promptTokens">The part of it that the prompt is: what a call cut off pays for before its output.</param>
    /// <param name="cancellationToken">The call's.</param>
    public async ValueTask<TokenReservation> ReserveAsync(string keyName, int estimatedTokens, int promptTokens, CancellationToken cancellationToken)
    {
        if (keys.Get(keyName) is not { TokensPerMinute: { } perMinute } key)
        {
            return TokenReservation.Unlimited;
        }

        // At most a minute's budget is set aside: an estimate past it (max_tokens: 1000000 on a key of 500 a minute) put
        // the key a day and more into debt, told every other call of it to come back in 33 hours while it ran, and kept
        // that debt for good when its caller left a non-streamed call. What the call really spends is settled as before.
        var reserved = Math.Min(estimatedTokens, perMinute);
        var bucket = key.TokensBucket;
        var take = await buckets.TryTakeAsync(bucket, perMinute, Window, reserved, cancellationToken);
        var standing = new BucketStanding(perMinute, Window, take.Available, time);
        return take.RetryAfter is { } retryAfter
            ? TokenReservation.Denied(retryAfter, standing)
            : new TokenReservation(permits => SettleAsync(bucket, perMinute, permits), reserved, promptTokens, standing);
    }

    /// <summary>Settling happens as a call ends, whoever is still waiting: it must not fail or delay the call.</summary>
    private async Task SettleAsync(string bucket, int perMinute, long permits)
    {
        try
        {
            await buckets.AdjustAsync(bucket, perMinute, Window, permits, CancellationToken.None);
        }
        catch (Exception exception)
        {
            SecurityLog.SettleFailed(logger, exception, bucket);
        }
    }
}

/// <summary>Tokens set aside for one model call; settled once, with the usage the model reported.</summary>
internal sealed class TokenReservation
{
    private readonly Func<long, Task>? _adjust;
    private readonly int _reserved;
    private readonly int _promptTokens;
    private int _settled;

    public TokenReservation(Func<long, Task> adjust, int reserved, int promptTokens, BucketStanding standing)
    {
        _adjust = adjust;
        _reserved = reserved;
        _promptTokens = promptTokens;
        IsGranted = true;
        Standing = standing;
    }

    private TokenReservation(bool granted, TimeSpan retryAfter, BucketStanding? standing)
    {
        IsGranted = granted;
        RetryAfter = retryAfter;
        Standing = standing;
    }

    public static TokenReservation Unlimited { get; } = new(granted: true, TimeSpan.Zero, standing: null);

    public static TokenReservation Denied(TimeSpan retryAfter, BucketStanding standing) => new(granted: false, retryAfter, standing);

    public bool IsGranted { get; }

    /// <summary>When a denied reservation could be granted.</summary>
    public TimeSpan RetryAfter { get; }

    /// <summary>The key's bucket as the reservation (and its settlement, once made) left it; null for a key without a budget.</summary>
    public BucketStanding? Standing { get; }

    /// <summary>
    /// Gives the whole reservation back and waits until it is back (a round trip on PostgreSQL): for a probe, whose
    /// tokens must be free again before the call it stood for reserves its own.
    /// </summary>
    public Task ReleaseAsync()
    {
        if (_adjust is null || Interlocked.Exchange(ref _settled, 1) != 0)
        {
            return Task.CompletedTask;
        }

        Standing?.Adjust(_reserved);
        return _adjust(_reserved);
    }

    /// <summary>
    /// Settles a call whose usage will never be known, because the caller left, the stream broke or the upstream
    /// reports none, with what it was seen to spend: the prompt's estimate and a token for each chunk of text that
    /// arrived. Keeping the whole estimate charged every "stop generating" its full <c>max_tokens</c>, which could lock
    /// a key out for minutes; settling with 0 gave a caller who cancels an unlimited budget.
    /// </summary>
    /// <param name="outputTokens">A token per chunk of a stream, or a whole answer's estimate.</param>
    public void SettleCut(long outputTokens) => Settle(_promptTokens + outputTokens);

    /// <summary>
    /// Replaces the estimate with what the call really used: the difference is given back or charged. A call that
    /// failed before the model answered settles with 0; one cut off mid-stream, with <see cref="SettleCut"/>.
    /// </summary>
    public void Settle(long usedTokens)
    {
        if (_adjust is not null && Interlocked.Exchange(ref _settled, 1) == 0)
        {
            Standing?.Adjust(_reserved - usedTokens);
            _ = _adjust(_reserved - usedTokens);
        }
    }
}
