using Gateway.Security;

namespace Gateway.Tests.Storage;

/// <summary>
/// The token-bucket arithmetic every <see cref="IRateBuckets"/> keeps to, on real time: 10 permits per 10 hours refill
/// one permit an hour, so the milliseconds a test takes move a Retry-After by well under a minute.
/// </summary>
public abstract class RateBucketsContractTests : IAsyncLifetime
{
    private const int Capacity = 10;
    private static readonly TimeSpan Window = TimeSpan.FromHours(10);
    private static readonly TimeSpan PerPermit = TimeSpan.FromHours(1);
    private static readonly CancellationToken None = CancellationToken.None;

    private IRateBuckets? _buckets;

    private IRateBuckets Buckets => _buckets!;

    public async Task InitializeAsync() => _buckets = await OpenAsync();

    public virtual Task DisposeAsync() => Task.CompletedTask;

    private protected abstract Task<IRateBuckets> OpenAsync();

    [Fact]
    public async Task AFullBucket_GrantsUpToItsCapacity_ThenTellsWhenTheNextPermitComes()
    {
        for (var i = 0; i < 4; i++)
        {
            AssertGranted(await TakeAsync("key", 2));
        }

        AssertGranted(await TakeAsync("key", 2));
        AssertRetryAfter(PerPermit, await TakeAsync("key", 1));
        AssertRetryAfter(3 * PerPermit, await TakeAsync("key", 3));
        // A denial takes nothing.
        AssertRetryAfter(PerPermit, await TakeAsync("key", 1));
        AssertGranted(await TakeAsync("other", Capacity));
    }

    [Fact]
    public async Task MoreThanTheCapacity_IsGrantedFromAFullBucket_IntoDebt()
    {
        AssertGranted(await TakeAsync("key", 25));

        // 15 in debt: the next permit is 16 refills away; a take larger than the capacity waits for a full bucket.
        AssertRetryAfter(16 * PerPermit, await TakeAsync("key", 1));
        AssertRetryAfter(25 * PerPermit, await TakeAsync("key", 40));
    }

    [Fact]
    public async Task Adjust_GivesBackUpToTheCapacity_AndChargesIntoDebt()
    {
        AssertGranted(await TakeAsync("key", Capacity));
        await Buckets.AdjustAsync("key", Capacity, Window, 4, None);
        AssertGranted(await TakeAsync("key", 4));
        AssertRetryAfter(PerPermit, await TakeAsync("key", 1));

        await Buckets.AdjustAsync("key", Capacity, Window, 100, None);
        AssertGranted(await TakeAsync("key", Capacity));
        AssertRetryAfter(PerPermit, await TakeAsync("key", 1));

        await Buckets.AdjustAsync("fresh", Capacity, Window, -15, None);
        AssertRetryAfter(6 * PerPermit, await TakeAsync("fresh", 1));
    }

    [Fact]
    public async Task AnEmptiedBucket_Refills()
    {
        // One permit a second: after an emptying, the next one is a second away, less what refilled between the two
        // takes (the wait is told to the millisecond).
        var fast = TimeSpan.FromSeconds(2);
        Assert.Null((await Buckets.TryTakeAsync("key", 2, fast, 2, None)).RetryAfter);
        Assert.InRange((await Buckets.TryTakeAsync("key", 2, fast, 1, None)).RetryAfter!.Value, TimeSpan.FromSeconds(0.8), TimeSpan.FromSeconds(1));

        await Task.Delay(TimeSpan.FromMilliseconds(1_200));

        Assert.Null((await Buckets.TryTakeAsync("key", 2, fast, 1, None)).RetryAfter);
    }

    /// <summary>What the x-ratelimit-* headers are made of: the bucket as the take left it, read by the take itself.</summary>
    [Fact]
    public async Task ATake_SaysWhatTheBucketHoldsAfterIt_AndADenial_WhatItHoldsUntouched()
    {
        AssertAvailable(7, await TakeAsync("key", 3));
        // More than it holds: denied, and nothing taken.
        AssertAvailable(7, await TakeAsync("key", 8));
        AssertAvailable(0, await TakeAsync("key", 7));
        AssertAvailable(0, await TakeAsync("key", 1));
        await Buckets.AdjustAsync("key", Capacity, Window, 4, None);
        AssertAvailable(2, await TakeAsync("key", 2));

        // Past the capacity, from a full bucket: the debt is said as it is.
        AssertAvailable(-15, await TakeAsync("fresh", 25));
        AssertAvailable(-15, await TakeAsync("fresh", 1));
    }

    private ValueTask<BucketTake> TakeAsync(string bucket, long permits) => Buckets.TryTakeAsync(bucket, Capacity, Window, permits, None);

    private static void AssertGranted(BucketTake take) => Assert.Null(take.RetryAfter);

    private static void AssertRetryAfter(TimeSpan expected, BucketTake take)
    {
        Assert.NotNull(take.RetryAfter);
        Assert.InRange(take.RetryAfter.Value, expected - TimeSpan.FromMinutes(1), expected);
    }

    /// <summary>A permit an hour: what the test's milliseconds refill is far below a hundredth of one.</summary>
    private static void AssertAvailable(double expected, BucketTake take) => Assert.InRange(take.Available, expected, expected + 0.01);
}
