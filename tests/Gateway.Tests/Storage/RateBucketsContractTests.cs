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
            Assert.Null(await TakeAsync("key", 2));
        }

        Assert.Null(await TakeAsync("key", 2));
        AssertRetryAfter(PerPermit, await TakeAsync("key", 1));
        AssertRetryAfter(3 * PerPermit, await TakeAsync("key", 3));
        // A denial takes nothing.
        AssertRetryAfter(PerPermit, await TakeAsync("key", 1));
        Assert.Null(await TakeAsync("other", Capacity));
    }

    [Fact]
    public async Task MoreThanTheCapacity_IsGrantedFromAFullBucket_IntoDebt()
    {
        Assert.Null(await TakeAsync("key", 25));

        // 15 in debt: the next permit is 16 refills away; a take larger than the capacity waits for a full bucket.
        AssertRetryAfter(16 * PerPermit, await TakeAsync("key", 1));
        AssertRetryAfter(25 * PerPermit, await TakeAsync("key", 40));
    }

    [Fact]
    public async Task Adjust_GivesBackUpToTheCapacity_AndChargesIntoDebt()
    {
        Assert.Null(await TakeAsync("key", Capacity));
        await Buckets.AdjustAsync("key", Capacity, Window, 4, None);
        Assert.Null(await TakeAsync("key", 4));
        AssertRetryAfter(PerPermit, await TakeAsync("key", 1));

        await Buckets.AdjustAsync("key", Capacity, Window, 100, None);
        Assert.Null(await TakeAsync("key", Capacity));
        AssertRetryAfter(PerPermit, await TakeAsync("key", 1));

        await Buckets.AdjustAsync("fresh", Capacity, Window, -15, None);
        AssertRetryAfter(6 * PerPermit, await TakeAsync("fresh", 1));
    }

    [Fact]
    public async Task AnEmptiedBucket_Refills()
    {
        // One permit a second: after an emptying, the next one is a second away.
        var fast = TimeSpan.FromSeconds(2);
        Assert.Null(await Buckets.TryTakeAsync("key", 2, fast, 2, None));
        Assert.Equal(TimeSpan.FromSeconds(1), await Buckets.TryTakeAsync("key", 2, fast, 1, None));

        await Task.Delay(TimeSpan.FromMilliseconds(1_200));

        Assert.Null(await Buckets.TryTakeAsync("key", 2, fast, 1, None));
    }

    private ValueTask<TimeSpan?> TakeAsync(string bucket, long permits) => Buckets.TryTakeAsync(bucket, Capacity, Window, permits, None);

    private static void AssertRetryAfter(TimeSpan expected, TimeSpan? actual)
    {
        Assert.NotNull(actual);
        Assert.InRange(actual.Value, expected - TimeSpan.FromMinutes(1), expected);
    }
}
