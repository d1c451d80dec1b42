using System.Threading.Channels;

namespace Gateway.Runs;

/// <summary>
/// One reader of a <see cref="RunLog"/>: a cursor into the log and a wake-up signal. The signal is a channel of
/// capacity one that drops what does not fit, so however many events arrive while the watcher is busy, the run
/// never waits and the watcher catches up from the log, in order, on its next read. A heartbeat timer, restarted
/// whenever a read returns events, wakes it when the stream has been idle.
/// </summary>
internal sealed class RunWatcher : IDisposable
{
    private readonly RunLog _log;
    private readonly Channel<bool> _wake = Channel.CreateBounded<bool>(
        new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite, SingleReader = true });
    private readonly TimeSpan _heartbeat;
    private readonly ITimer _heartbeatTimer;
    private int _heartbeatDue;

    public RunWatcher(RunLog log, long afterId, TimeSpan heartbeat, TimeProvider timeProvider)
    {
        _log = log;
        LastId = afterId;
        _heartbeat = heartbeat;
        _heartbeatTimer = timeProvider.CreateTimer(static state => ((RunWatcher)state!).HeartbeatDue(), this, heartbeat, heartbeat);
    }

    /// <summary>The run watched.</summary>
    public string RunId => _log.RunId;

    /// <summary>The id of the last event read (or the one the watcher resumed after).</summary>
    public long LastId { get; private set; }

    /// <summary>
    /// Copies the events after <see cref="LastId"/> into <paramref name="batch"/>. Events read are about to go out,
    /// so the stream is not idle: the next heartbeat is a full interval away. The interval restarts here, before
    /// the writes rather than after them, so once the last event is out the next keep-alive is at most one interval
    /// away, and a heartbeat that falls due while the events are written is still sent unless more events follow.
    /// </summary>
    /// <returns>True when the run has ended and <paramref name="batch"/> holds all that is left.</returns>
    public bool Read(List<RunEventEntry> batch)
    {
        batch.Clear();
        var ended = _log.Read(LastId, batch);
        if (batch.Count > 0)
        {
            LastId = batch[^1].Id;
            Interlocked.Exchange(ref _heartbeatDue, 0);
            _heartbeatTimer.Change(_heartbeat, _heartbeat);
        }

        return ended;
    }

    /// <summary>Waits until there may be something to read, or a heartbeat is due.</summary>
    public ValueTask<bool> WaitAsync(CancellationToken cancellationToken) => _wake.Reader.ReadAsync(cancellationToken);

    /// <summary>True once per idle <c>HeartbeatSeconds</c>.</summary>
    public bool TakeHeartbeat() => Interlocked.Exchange(ref _heartbeatDue, 0) == 1;

    internal void Wake() => _wake.Writer.TryWrite(true);

    private void HeartbeatDue()
    {
        Interlocked.Exchange(ref _heartbeatDue, 1);
        Wake();
    }

    public void Dispose()
    {
        _heartbeatTimer.Dispose();
        _log.Detach(this);
    }
}
