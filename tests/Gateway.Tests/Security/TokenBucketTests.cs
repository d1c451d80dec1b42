using System.Threading.RateLimiting;
using Gateway.Security;
using Gateway.Tests.Infrastructure;
using Microsoft.Extensions.Options;

namespace Gateway.Tests.Security;

public sealed class TokenBucketTests
{
    private readonly FakeTimeProvider _clock = new();

    [Fact]
    public void Bucket_GrantsItsCapacity_ThenSaysWhenToComeBack()
    {
        using var bucket = new TokenBucket(60, TimeSpan.FromMinutes(1), _clock);

        using (var all = bucket.AttemptAcquire(60))
        {
            Assert.True(all.IsAcquired);
        }

        using var denied = bucket.AttemptAcquire(10);
        Assert.False(denied.IsAcquired);
        Assert.True(denied.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter));
        Assert.Equal(TimeSpan.FromSeconds(10), retryAfter);
    }

    [Fact]
    public void Bucket_RefillsContinuouslyWithTheClock()
    {
        using var bucket = new TokenBucket(60, TimeSpan.FromMinutes(1), _clock);
        bucket.AttemptAcquire(60).Dispose();

        _clock.Advance(TimeSpan.FromSeconds(10));

        Assert.True(bucket.AttemptAcquire(10).IsAcquired);
        Assert.False(bucket.AttemptAcquire(1).IsAcquired);
    }

    [Fact]
    public void MoreThanCapacity_IsGrantedFromAFullBucket_AndLeavesDebt()
    {
        using var bucket = new TokenBucket(60, TimeSpan.FromMinutes(1), _clock);

        Assert.True(bucket.AttemptAcquire(120).IsAcquired);

        using var denied = bucket.AttemptAcquire(1);
        Assert.True(denied.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter));
        Assert.Equal(TimeSpan.FromSeconds(61), retryAfter);
    }

    [Fact]
    public void Reservation_SettledBelowTheEstimate_GivesTheRestBack()
    {
        var budgets = Budgets(tokensPerMinute: 100);
        var reservation = budgets.Reserve("app", 80);
        Assert.True(reservation.IsGranted);
        Assert.False(budgets.Reserve("app", 80).IsGranted);

        reservation.Settle(20);

        Assert.True(budgets.Reserve("app", 80).IsGranted);
    }

    [Fact]
    public void Reservation_SettledAboveTheEstimate_ChargesTheDifference()
    {
        var budgets = Budgets(tokensPerMinute: 100);
        budgets.Reserve("app", 10).Settle(90);

        var denied = budgets.Reserve("app", 20);

        Assert.False(denied.IsGranted);
        Assert.Equal(TimeSpan.FromSeconds(6), denied.RetryAfter);
    }

    [Fact]
    public void Reservation_SettlesOnlyOnce()
    {
        var budgets = Budgets(tokensPerMinute: 100);
        var reservation = budgets.Reserve("app", 50);

        reservation.Settle(0);
        reservation.Settle(0);

        Assert.True(budgets.Reserve("app", 100).IsGranted);
        Assert.False(budgets.Reserve("app", 1).IsGranted);
    }

    [Fact]
    public void KeyWithoutTokenLimit_IsNeverDenied()
    {
        var budgets = Budgets(tokensPerMinute: null);

        Assert.True(budgets.Reserve("app", int.MaxValue).IsGranted);
        Assert.True(budgets.Reserve(CallerIdentity.AnonymousName, int.MaxValue).IsGranted);
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
        return new TokenBudgets(new ApiKeyStore(Options.Create(options)), _clock);
    }
}
