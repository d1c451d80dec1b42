using Gateway.Runs;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Runs;

/// <summary>
/// When a run's event stream counts as idle: a watcher's heartbeat interval restarts when it reads events, the
/// moment before they are written, so a heartbeat that falls due while they go out is still sent if nothing follows.
/// </summary>
public sealed class RunWatcherHeartbeatTests
{
    private static readonly TimeSpan Heartbeat = TimeSpan.FromSeconds(5);

    private readonly FakeTimeProvider _clock = new();
    private readonly List<RunEventEntry> _batch = [];

    [Fact]
    public void ReadingEvents_RestartsTheInterval_FromTheRead()
    {
        using var log = new RunLog("run-x", grace: null, _clock);
        using var watcher = log.Attach(afterId: 0, Heartbeat);

        _clock.Advance(TimeSpan.FromSeconds(4));
        log.Append(new RunEventEntry(1, "run.started", "{}"));
        watcher.Read(_batch);
        _clock.Advance(TimeSpan.FromSeconds(4));

        Assert.False(watcher.TakeHeartbeat());
        _clock.Advance(TimeSpan.FromSeconds(1));
        Assert.True(watcher.TakeHeartbeat());
        Assert.False(watcher.TakeHeartbeat());
    }

    /// <summary>What the stream relies on when a write outlasts the interval: the next empty read finds the beat.</summary>
    [Fact]
    public void AHeartbeatDueWhileEventsAreWritten_IsStillTaken_WhenNothingFollows()
    {
        using var log = new RunLog("run-x", grace: null, _clock);
        using var watcher = log.Attach(afterId: 0, Heartbeat);
        log.Append(new RunEventEntry(1, "node.started", "{}"));
        watcher.Read(_batch);

        // A slow client: writing the batch outlasts the interval.
        _clock.Advance(Heartbeat);

        Assert.False(watcher.Read(_batch));
        Assert.Empty(_batch);
        Assert.True(watcher.TakeHeartbeat());
    }

    [Fact]
    public void AHeartbeatDueWhileEventsAreWritten_IsDropped_WhenMoreEventsFollow()
    {
        using var log = new RunLog("run-x", grace: null, _clock);
        using var watcher = log.Attach(afterId: 0, Heartbeat);
        log.Append(new RunEventEntry(1, "node.started", "{}"));
        watcher.Read(_batch);

        _clock.Advance(Heartbeat);
        log.Append(new RunEventEntry(2, "token", "{}"));

        watcher.Read(_batch);
        Assert.Equal([2L], _batch.Select(e => e.Id));
        Assert.False(watcher.TakeHeartbeat());
    }
}
