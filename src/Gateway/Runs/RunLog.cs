namespace Gateway.Runs;

/// <summary>
/// The live log of one run in this process: its events in order (id N at index N-1-startsAfter), the watchers reading it,
/// and the run's cancellation. Appending never waits for a watcher: each reads from the log at its own pace and
/// is only woken. When the last watcher leaves and none re-attaches within the grace, the run is cancelled
/// (background runs excepted).
/// </summary>
internal sealed class RunLog : IDisposable
{
    private readonly Lock _gate = new();
    private readonly List<RunEventEntry> _entries = [];
    private readonly List<RunWatcher> _watchers = [];
    private readonly CancellationTokenSource _cancel = new();
    private readonly TaskCompletionSource<RunRecord?> _ended = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TimeSpan _grace;
    private readonly TimeProvider _timeProvider;
    private readonly long _startsAfter;
    private Func<string, bool>? _acceptCancel;
    private ITimer? _graceTimer;

    /// <summary>Counts the grace timers armed and disarmed: one that fires after its moment has passed does nothing.</summary>
    private long _graceGeneration;
    private bool _isEnded;
    private bool _hasTerminal;
    private bool _isDisposed;

    /// <param name="runId">The run's id.</param>
    /// <param name="grace">How long the run outlives its last watcher; null: it runs on without any (a background run).</param>
    /// <param name="timeProvider">The clock of the grace timer.</param>
    /// <param name="startsAfter">The id of the event before the first one appended: a copy of the end of another log.</param>
    /// <param name="acceptCancel">
    /// Whether a cancel may still end the run, asked before cancelling it: a cancel answered 202 must end it cancelled,
    /// so one that comes once its end is decided is refused (<see cref="RunState.TryAcceptCancel"/>).
    /// </param>
    public RunLog(string runId, TimeSpan? grace, TimeProvider timeProvider, long startsAfter = 0, Func<string, bool>? acceptCancel = null)
    {
        RunId = runId;
        _grace = grace ?? Timeout.InfiniteTimeSpan;
        _timeProvider = timeProvider;
        _startsAfter = startsAfter;
        _acceptCancel = acceptCancel;
    }

    public string RunId { get; }

    /// <summary>The key that started the run, while it executes here: who may cancel it without asking the store.</summary>
    public string? Owner { get; init; }

    /// <summary>Cancelled by <see cref="Cancel"/>, or when the grace after the last watcher ran out.</summary>
    public CancellationToken Cancellation => _cancel.Token;

    /// <summary>The finished record, once the terminal event is in the log; null if the run stopped without one.</summary>
    public Task<RunRecord?> Ended => _ended.Task;

    /// <summary>The id of the last event in the log (0 before the first).</summary>
    public long LastId
    {
        get
        {
            lock (_gate)
            {
                return _startsAfter + _entries.Count;
            }
        }
    }

    /// <summary>
    /// The id of the last event in the log, and whether the log has ended, with its terminal event or without it (the
    /// run stopped before its end could be stored; the store's log ends it later), read together.
    /// </summary>
    public (long LastId, bool IsEnded, bool HasTerminal) Position
    {
        get
        {
            lock (_gate)
            {
                return (_startsAfter + _entries.Count, _isEnded, _hasTerminal);
            }
        }
    }

    /// <summary>The characters of the log's events: what keeping it in memory costs, about twice that in bytes.</summary>
    public long Chars
    {
        get
        {
            lock (_gate)
            {
                var chars = 0L;
                foreach (var entry in _entries)
                {
                    chars += entry.Name.Length + entry.Data.Length;
                }

                return chars;
            }
        }
    }

    public void Append(RunEventEntry entry)
    {
        lock (_gate)
        {
            _entries.Add(entry);
            foreach (var watcher in _watchers)
            {
                watcher.Wake();
            }
        }
    }

    public void End(RunRecord? finished)
    {
        lock (_gate)
        {
            _isEnded = true;
            _hasTerminal = finished is not null;

            // Bound to the run: a finished log kept for its events would keep the whole run (its flow, every
            // template's text) in memory, outside the retention budget. No cancel is accepted once the log has ended.
            _acceptCancel = null;
            _graceTimer?.Dispose();
            _graceTimer = null;
            foreach (var watcher in _watchers)
            {
                watcher.Wake();
            }
        }

        _ended.TrySetResult(finished);
    }

    /// <returns>False when the run had already ended, or its end was decided (<see cref="RunState.TryAcceptCancel"/>).</returns>
    public bool Cancel() => TryCancel(graceGeneration: null, RunState.CancelledByCaller);

    /// <param name="graceGeneration">For the grace timer: the generation it was armed in, which must still be current
    /// with no watcher attached, checked with everything else in one critical section.</param>
    /// <param name="reason">Why, for the run's record.</param>
    private bool TryCancel(long? graceGeneration, string reason)
    {
        lock (_gate)
        {
            if (_isEnded || _isDisposed
                || (graceGeneration is { } generation && (generation != _graceGeneration || _watchers.Count > 0))
                || _acceptCancel?.Invoke(reason) == false)
            {
                return false;
            }
        }

        try
        {
            _cancel.Cancel();
            return true;
        }
        catch (ObjectDisposedException)
        {
            // Disposed between the check and here: the log is gone, and so is the run it cancelled.
            return false;
        }
    }

    /// <summary>
    /// A watcher on another replica follows this run: it counts as one for the grace period, which starts over now
    /// if no watcher is attached here. Such watchers say so every third of the grace while they stay.
    /// </summary>
    public void WatchedElsewhere()
    {
        lock (_gate)
        {
            if (_isEnded || _watchers.Count > 0 || _graceTimer is null)
            {
                return;
            }

            ArmGrace();
        }
    }

    /// <summary>A new watcher that reads the events after id <paramref name="afterId"/>, then the live ones.</summary>
    public RunWatcher Attach(long afterId, TimeSpan heartbeat)
    {
        var watcher = new RunWatcher(this, afterId, heartbeat, _timeProvider);
        lock (_gate)
        {
            _watchers.Add(watcher);
            _graceTimer?.Dispose();
            _graceTimer = null;
            _graceGeneration++;
        }

        return watcher;
    }

    internal void Detach(RunWatcher watcher)
    {
        lock (_gate)
        {
            if (!_watchers.Remove(watcher) || _watchers.Count > 0 || _isEnded || _grace == Timeout.InfiniteTimeSpan)
            {
                return;
            }

            if (_grace > TimeSpan.Zero)
            {
                ArmGrace();
                return;
            }
        }

        // No grace: cancelled at once, outside the lock, as cancelling runs the aborts of the upstream calls inline.
        TryCancel(graceGeneration: null, RunState.CancelledUnwatched);
    }

    /// <summary>Under the lock: the grace starts (over) now, on a timer of its own generation.</summary>
    private void ArmGrace()
    {
        _graceTimer?.Dispose();
        var generation = ++_graceGeneration;
        _graceTimer = _timeProvider.CreateTimer(
            static state =>
            {
                // A timer already firing is not stopped by disposing it: one whose grace was started over, or ended by
                // a watcher who attached meanwhile, must not cancel the run.
                var (log, generation) = ((RunLog, long))state!;
                log.TryCancel(generation, RunState.CancelledUnwatched);
            },
            (this, generation),
            _grace,
            Timeout.InfiniteTimeSpan);
    }

    /// <summary>Copies the events after <paramref name="afterId"/> into <paramref name="batch"/>.</summary>
    /// <returns>True when the log had ended: the batch then holds every remaining event.</returns>
    internal bool Read(long afterId, List<RunEventEntry> batch)
    {
        lock (_gate)
        {
            for (var index = (int)Math.Clamp(afterId - _startsAfter, 0, _entries.Count); index < _entries.Count; index++)
            {
                batch.Add(_entries[index]);
            }

            return _isEnded;
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _isDisposed = true;
            _graceTimer?.Dispose();
            _graceTimer = null;
        }

        _cancel.Dispose();
    }
}
