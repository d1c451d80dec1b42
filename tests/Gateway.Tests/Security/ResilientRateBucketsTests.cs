using Gateway.Security;
using Gateway.Tests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gateway.Tests.Security;

/// <summary>While the shared buckets cannot be reached, each replica limits on its own; then the shared ones count again.</summary>
public sealed class ResilientRateBucketsTests
{
    private static readonly TimeSpan Minute = TimeSpan.FromMinutes(1);

    [Fact]
    public async Task SharedBucketsUnreachable_TheLocalOnesLimit_ThenTheSharedOnesAgain()
    {
        var shared = new SwitchableBuckets(new LocalRateBuckets(new FakeTimeProvider()));
        var clock = new FakeTimeProvider();
        var buckets = new ResilientRateBuckets(shared, new LocalRateBuckets(clock), clock, NullLogger<ResilientRateBuckets>.Instance);

        Assert.Null((await buckets.TryTakeAsync("requests:k", 2, Minute, 2, CancellationToken.None)).RetryAfter);
        Assert.NotNull((await buckets.TryTakeAsync("requests:k", 2, Minute, 1, CancellationToken.None)).RetryAfter);

        shared.Down = true;
        Assert.Null((await buckets.TryTakeAsync("requests:k", 2, Minute, 2, CancellationToken.None)).RetryAfter);
        Assert.NotNull((await buckets.TryTakeAsync("requests:k", 2, Minute, 1, CancellationToken.None)).RetryAfter);
        await buckets.AdjustAsync("requests:k", 2, Minute, 1, CancellationToken.None);
        Assert.Null((await buckets.TryTakeAsync("requests:k", 2, Minute, 1, CancellationToken.None)).RetryAfter);

        shared.Down = false;
        clock.Advance(ResilientRateBuckets.RetryInterval);
        Assert.NotNull((await buckets.TryTakeAsync("requests:k", 2, Minute, 1, CancellationToken.None)).RetryAfter);
    }

    [Fact]
    public async Task AfterTheSharedBucketsFailed_RequestsGoStraightToTheLocalOnes_AndOneAtATimeTriesAgain()
    {
        var shared = new SwitchableBuckets(new LocalRateBuckets(new FakeTimeProvider())) { Down = true };
        var clock = new FakeTimeProvider();
        var buckets = new ResilientRateBuckets(shared, new LocalRateBuckets(clock), clock, NullLogger<ResilientRateBuckets>.Instance);

        Assert.Null((await buckets.TryTakeAsync("requests:k", 100, Minute, 1, CancellationToken.None)).RetryAfter);
        Assert.Equal(1, shared.Calls);
        // A database that does not answer cost each of these its command timeout; they no longer ask it.
        for (var i = 0; i < 10; i++)
        {
            Assert.Null((await buckets.TryTakeAsync("requests:k", 100, Minute, 1, CancellationToken.None)).RetryAfter);
            await buckets.AdjustAsync("requests:k", 100, Minute, 1, CancellationToken.None);
        }

        Assert.Equal(1, shared.Calls);

        clock.Advance(ResilientRateBuckets.RetryInterval);
        Assert.Null((await buckets.TryTakeAsync("requests:k", 100, Minute, 1, CancellationToken.None)).RetryAfter);
        Assert.Null((await buckets.TryTakeAsync("requests:k", 100, Minute, 1, CancellationToken.None)).RetryAfter);
        Assert.Equal(2, shared.Calls);

        shared.Down = false;
        clock.Advance(ResilientRateBuckets.RetryInterval);
        Assert.Null((await buckets.TryTakeAsync("requests:k", 100, Minute, 1, CancellationToken.None)).RetryAfter);
        Assert.Null((await buckets.TryTakeAsync("requests:k", 100, Minute, 1, CancellationToken.None)).RetryAfter);
        Assert.Equal(4, shared.Calls);
    }

    private sealed class SwitchableBuckets(IRateBuckets inner) : IRateBuckets
    {
        public bool Down { get; set; }

        public int Calls { get; private set; }

        public ValueTask<BucketTake> TryTakeAsync(string bucket, int capacity, TimeSpan window, long permits, CancellationToken cancellationToken)
        {
            Calls++;
            return Down ? throw new TimeoutException("The database did not answer.") : inner.TryTakeAsync(bucket, capacity, window, permits, cancellationToken);
        }

        public ValueTask AdjustAsync(string bucket, int capacity, TimeSpan window, long permits, CancellationToken cancellationToken)
        {
            Calls++;
            return Down ? throw new TimeoutException("The database did not answer.") : inner.AdjustAsync(bucket, capacity, window, permits, cancellationToken);
        }
    }
}
