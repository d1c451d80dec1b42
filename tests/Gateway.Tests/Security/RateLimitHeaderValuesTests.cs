using Gateway.Security;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Security;

/// <summary>What the <c>x-ratelimit-*</c> headers say of a bucket, and how they write a reset.</summary>
public sealed class RateLimitHeaderValuesTests
{
    private static readonly TimeSpan Minute = TimeSpan.FromMinutes(1);

    [Theory]
    [InlineData(0, "0s")]
    [InlineData(20, "20ms")]
    [InlineData(999, "999ms")]
    [InlineData(1_000, "1s")]
    [InlineData(3_600, "3.6s")]
    [InlineData(60_000, "1m0s")]
    [InlineData(90_500, "1m30.5s")]
    [InlineData(360_000, "6m0s")]
    [InlineData(3_600_000, "1h0m0s")]
    [InlineData(3_725_250, "1h2m5.25s")]
    public void AReset_IsWrittenAsOpenAiWritesIt_GosDurationFormat(long milliseconds, string expected) =>
        Assert.Equal(expected, RateLimitHeaders.Duration(TimeSpan.FromMilliseconds(milliseconds)));

    [Fact]
    public void ADebt_LeavesNoneRemaining_AndResetsOnceRepaidAndRefilled()
    {
        var clock = new FakeTimeProvider();
        var tokens = new BucketStanding(100, Minute, available: -50, clock);

        Assert.Equal((0L, TimeSpan.FromSeconds(90)), tokens.Now());

        clock.Advance(TimeSpan.FromSeconds(60));
        Assert.Equal((50L, TimeSpan.FromSeconds(30)), tokens.Now());

        // Given back past the capacity, as a bucket is, it is full and no more.
        tokens.Adjust(80);
        Assert.Equal((100L, TimeSpan.Zero), tokens.Now());
    }

    [Fact]
    public void APartPermit_IsNotRemaining_AndTheResetIsRoundedUpToTheMillisecond()
    {
        var requests = new BucketStanding(3, Minute, available: 0.9999, new FakeTimeProvider());

        // 2.0001 requests short at 20 s each: 40.002 s.
        Assert.Equal((0L, TimeSpan.FromMilliseconds(40_002)), requests.Now());
    }

    [Fact]
    public void AnAbsurdDebt_IsTheLongestWait_NotATimeThatOverflows()
    {
        var tokens = new BucketStanding(10, Minute, available: -1e15, new FakeTimeProvider());

        var (remaining, untilFull) = tokens.Now();

        Assert.Equal(0, remaining);
        Assert.Equal(TokenBucket.LongestWait, untilFull);
        Assert.Equal("8760h0m0s", RateLimitHeaders.Duration(untilFull));
    }
}
