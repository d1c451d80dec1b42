using Gateway.Security;
using Gateway.Tests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Gateway.Tests.Security;

public sealed class TokenBucketTests
{
    private readonly FakeTimeProvider _clock = new();

    [Fact]
    public void Bucket_GrantsItsCapacity_ThenSaysWhenToComeBack()
    {
        var bucket = new TokenBucket(60, TimeSpan.FromMinutes(1), _clock);

        Assert.Null(bucket.TryTake(60).RetryAfter);

        Assert.Equal(TimeSpan.FromSeconds(10), bucket.TryTake(10).RetryAfter);
    }

    [Fact]
    public void Bucket_RefillsContinuouslyWithTheClock()
    {
        var bucket = new TokenBucket(60, TimeSpan.FromMinutes(1), _clock);
        bucket.TryTake(60);

        _clock.Advance(TimeSpan.FromSeconds(10));

        Assert.Null(bucket.TryTake(10).RetryAfter);
        Assert.NotNull(bucket.TryTake(1).RetryAfter);
    }

    /// <summary>
    /// A wait under a second is said as it is, for <c>retry-after-ms</c>, which the OpenAI SDKs wait: until 2026-12-07
    /// rounded up to whole seconds, so a key of 600 requests a minute was told to wait 1000 ms for a request due in 100.
    /// </summary>
    [Fact]
    public void AWaitUnderASecond_IsToldToTheMillisecond()
    {
        var bucket = new TokenBucket(600, TimeSpan.FromMinutes(1), _clock);
        bucket.TryTake(600);

        Assert.Equal(TimeSpan.FromMilliseconds(100), bucket.TryTake(1).RetryAfter);
        _clock.Advance(TimeSpan.FromMilliseconds(30));
        Assert.Equal(TimeSpan.FromMilliseconds(70), bucket.TryTake(1).RetryAfter);
    }

    [Fact]
    public void ADebtHoweverDeep_IsALongWait_NotATimeThatOverflows()
    {
        var bucket = new TokenBucket(60, TimeSpan.FromMinutes(1), _clock);
        bucket.Adjust(-long.MaxValue / 2);

        Assert.Equal(TokenBucket.LongestWait, bucket.TryTake(1).RetryAfter);
    }

    [Fact]
    public void MoreThanCapacity_IsGrantedFromAFullBucket_AndLeavesDebt()
    {
        var bucket = new TokenBucket(60, TimeSpan.FromMinutes(1), _clock);

        Assert.Null(bucket.TryTake(120).RetryAfter);

        Assert.Equal(TimeSpan.FromSeconds(61), bucket.TryTake(1).RetryAfter);
    }

    [Fact]
    public async Task Reservation_SettledBelowTheEstimate_GivesTheRestBack()
    {
        var budgets = Budgets(tokensPerMinute: 100);
        var reservation = await budgets.ReserveAsync("app", 80, 0, CancellationToken.None);
        Assert.True(reservation.IsGranted);
        Assert.False((await budgets.ReserveAsync("app", 80, 0, CancellationToken.None)).IsGranted);

        reservation.Settle(20);

        Assert.True((await budgets.ReserveAsync("app", 80, 0, CancellationToken.None)).IsGranted);
    }

    [Fact]
    public async Task Reservation_SettledAboveTheEstimate_ChargesTheDifference()
    {
        var budgets = Budgets(tokensPerMinute: 100);
        (await budgets.ReserveAsync("app", 10, 0, CancellationToken.None)).Settle(90);

        var denied = await budgets.ReserveAsync("app", 20, 0, CancellationToken.None);

        Assert.False(denied.IsGranted);
        Assert.Equal(TimeSpan.FromSeconds(6), denied.RetryAfter);
    }

    [Fact]
    public async Task Reservation_CutOff_PaysItsPromptAndTheChunksSent()
    {
        var budgets = Budgets(tokensPerMinute: 100);
        var reservation = await budgets.ReserveAsync("app", 90, 10, CancellationToken.None);

        reservation.SettleCut(5);

        // 10 + 5 spent: 85 left, not the 10 the whole estimate would leave, nor the 100 of settling with nothing.
        Assert.True((await budgets.ReserveAsync("app", 85, 0, CancellationToken.None)).IsGranted);
        Assert.False((await budgets.ReserveAsync("app", 1, 0, CancellationToken.None)).IsGranted);
    }

    [Fact]
    public async Task Reservation_SettlesOnlyOnce()
    {
        var budgets = Budgets(tokensPerMinute: 100);
        var reservation = await budgets.ReserveAsync("app", 50, 0, CancellationToken.None);

        reservation.Settle(0);
        reservation.Settle(0);

        Assert.True((await budgets.ReserveAsync("app", 100, 0, CancellationToken.None)).IsGranted);
        Assert.False((await budgets.ReserveAsync("app", 1, 0, CancellationToken.None)).IsGranted);
    }

    [Fact]
    public async Task KeyWithoutTokenLimit_IsNeverDenied()
    {
        var budgets = Budgets(tokensPerMinute: null);

        Assert.True((await budgets.ReserveAsync("app", int.MaxValue, 0, CancellationToken.None)).IsGranted);
        Assert.True((await budgets.ReserveAsync(CallerIdentity.AnonymousName, int.MaxValue, 0, CancellationToken.None)).IsGranted);
    }

    [Fact]
    public void Estimate_IsAQuarterOfTheCharactersPlusTheCompletionAllowance()
    {
        Assert.Equal(3 + 10, TokenEstimate.For(["hello world!"], 10));
        Assert.Equal(TokenEstimate.DefaultCompletionTokens, TokenEstimate.For([null, ""], null));
    }

    private TokenBudgets Budgets(int? tokensPerMinute)
    {
        var options = new AuthOptions { Keys = [new ApiKeyOptions { Name = "app", KeyHash = new string('a', 64), TokensPerMinute = tokensPerMinute }] };
        return new TokenBudgets(new ApiKeyStore(Options.Create(options)), new LocalRateBuckets(_clock), _clock, NullLogger<TokenBudgets>.Instance);
    }
}
