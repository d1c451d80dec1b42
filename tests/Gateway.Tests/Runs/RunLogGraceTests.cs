using Gateway.Runs;

namespace Gateway.Tests.Runs;

/// <summary>
/// The disconnect grace, with timers the test fires by hand. A timer callback already under way is not stopped by
/// disposing its timer: one that fires after a watcher attached, or after the grace started over, must not cancel.
/// </summary>
public sealed class RunLogGraceTests
{
    [Fact]
    public void AGraceTimerFiringAfterAWatcherAttached_DoesNotCancelTheRun()
    {
        var clock = new HandFiredTimers();
        using var log = new RunLog("run-1", TimeSpan.FromSeconds(10), clock);
        log.Attach(afterId: 0, Timeout.InfiniteTimeSpan).Dispose(); // the last watcher leaves: the grace starts
        var grace = clock.Created[^1];

        using var returned = log.Attach(afterId: 0, Timeout.InfiniteTimeSpan);
        grace.Fire(); // was already firing as the watcher came back

        Assert.False(log.Cancellation.IsCancellationRequested);
    }

    [Fact]
    public void AGraceTimerFiringAfterTheGraceStartedOver_DoesNotCancel_TheNewOneDoes()
    {
        var clock = new HandFiredTimers();
        using var log = new RunLog("run-1", TimeSpan.FromSeconds(10), clock);
        log.Attach(afterId: 0, Timeout.InfiniteTimeSpan).Dispose();
        var first = clock.Created[^1];

        log.WatchedElsewhere(); // a watcher on another replica: the grace starts over on a new timer
        var second = clock.Created[^1];
        first.Fire();
        Assert.False(log.Cancellation.IsCancellationRequested);

        second.Fire();
        Assert.True(log.Cancellation.IsCancellationRequested);
    }

    /// <summary>Timers that fire only when the test says, even once disposed, as a callback already running would.</summary>
    private sealed class HandFiredTimers : TimeProvider
    {
        public List<HandFiredTimer> Created { get; } = [];

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
        {
            var timer = new HandFiredTimer(callback, state);
            Created.Add(timer);
            return timer;
        }
    }

    private sealed class HandFiredTimer(TimerCallback callback, object? state) : ITimer
    {
        public void Fire() => callback(state);

        public bool Change(TimeSpan dueTime, TimeSpan period) => true;

        public void Dispose()
        {
        }

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
