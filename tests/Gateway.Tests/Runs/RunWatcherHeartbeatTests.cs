using Gateway.Runs;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Runs;

/// <summary>
/// When a run's event stream counts as idle: a watcher's heartbeat interval restarts when it reads events, the
/// moment before they are written, so a heartbeat that falls due while they go out is still sent if nothing follows.
/// Each test starts with a watcher attached to an empty log, on a clock that moves only when the test says.
/// </summary>
public sealed class RunWatcherHeartbeatTests : IDisposable
{
    private static readonly TimeSpan Heartbeat = TimeSpan.FromSeconds(5);

    private readonly FakeTimeProvider _clock = new();
    private readonly List<RunEventEntry> _batch = [];
    private readonly RunLog _log;
    private readonly RunWatcher _watcher;

    public RunWatcherHeartbeatTests()
    {
        _log = new RunLog("run-x", grace: null, _clock);
        _watcher = _log.Attach(afterId: 0, Heartbeat);
    }

    public void Dispose()
    {
        _watcher.Dispose();
        _log.Dispose();
    }

    [Fact]
    public void ReadingEvents_RestartsTheInterval_FromTheRead()
    {
        _clock.Advance(TimeSpan.FromSeconds(4));
        _log.Append(new RunEventEntry(1, "run.started", "{}"));
        _watcher.Read(_batch);
        _clock.Advance(TimeSpan.FromSeconds(4));

        Assert.False(_watcher.TakeHeartbeat());
        _clock.Advance(TimeSpan.FromSeconds(1));
        Assert.True(_watcher.TakeHeartbeat());
        Assert.False(_watcher.TakeHeartbeat());
    }

    /// <summary>What the stream relies on when a write outlasts the interval: the next empty read finds the beat.</summary>
    [Fact]
    public void AHeartbeatDueWhileEventsAreWritten_IsStillTaken_WhenNothingFollows()
    {
        ReadOneEventThenWriteItForAWholeInterval();

        Assert.False(_watcher.Read(_batch));
        Assert.Empty(_batch);
        Assert.True(_watcher.TakeHeartbeat());
    }

    [Fact]
    public void AHeartbeatDueWhileEventsAreWritten_IsDropped_WhenMoreEventsFollow()
    {
        ReadOneEventThenWriteItForAWholeInterval();
        _log.Append(new RunEventEntry(2, "token", "{}"));

        _watcher.Read(_batch);
        Assert.Equal([2L], _batch.Select(e => e.Id));
        Assert.False(_watcher.TakeHeartbeat());
    }

    /// <summary>A slow client: writing the batch outlasts the interval.</summary>
    private void ReadOneEventThenWriteItForAWholeInterval()
    {
        _log.Append(new RunEventEntry(1, "node.started", "{}"));
        _watcher.Read(_batch);
        _clock.Advance(Heartbeat);
    }
}
