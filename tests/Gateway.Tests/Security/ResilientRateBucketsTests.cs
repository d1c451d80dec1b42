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
        var buckets = new ResilientRateBuckets(shared, new LocalRateBuckets(new FakeTimeProvider()), NullLogger<ResilientRateBuckets>.Instance);

        Assert.Null(await buckets.TryTakeAsync("requests:k", 2, Minute, 2, CancellationToken.None));
        Assert.NotNull(await buckets.TryTakeAsync("requests:k", 2, Minute, 1, CancellationToken.None));

        shared.Down = true;
        Assert.Null(await buckets.TryTakeAsync("requests:k", 2, Minute, 2, CancellationToken.None));
        Assert.NotNull(await buckets.TryTakeAsync("requests:k", 2, Minute, 1, CancellationToken.None));
        await buckets.AdjustAsync("requests:k", 2, Minute, 1, CancellationToken.None);
        Assert.Null(await buckets.TryTakeAsync("requests:k", 2, Minute, 1, CancellationToken.None));

        shared.Down = false;
        Assert.NotNull(await buckets.TryTakeAsync("requests:k", 2, Minute, 1, CancellationToken.None));
    }

    private sealed class SwitchableBuckets(IRateBuckets inner) : IRateBuckets
    {
        public bool Down { get; set; }

        public ValueTask<TimeSpan?> TryTakeAsync(string bucket, int capacity, TimeSpan window, long permits, CancellationToken cancellationToken) =>
            Down ? throw new TimeoutException("The database did not answer.") : inner.TryTakeAsync(bucket, capacity, window, permits, cancellationToken);

        public ValueTask AdjustAsync(string bucket, int capacity, TimeSpan window, long permits, CancellationToken cancellationToken) =>
            Down ? throw new TimeoutException("The database did not answer.") : inner.AdjustAsync(bucket, capacity, window, permits, cancellationToken);
    }
}
