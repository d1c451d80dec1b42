namespace Gateway.Runs;

/// <summary>
/// A watcher's copy of a run that another replica executes. The events come from the store, read after each
/// signal that the run has new ones and at least every <c>PollMilliseconds</c> whatever the signals do, into a log
/// of the follower's own, from the event the watcher resumes after through the terminal event. While it follows,
/// it tells the executing replica so, often enough that the run's disconnect grace never runs out on its account.
/// The follower ends when its watcher leaves.
/// </summary>
internal sealed class RunFollower : IDisposable
{
    private readonly string _runId;
    private readonly IRunStore _store;
    private readonly IRunSignals _signals;
    private readonly ILogger _logger;
    private readonly TimeSpan _poll;
    private readonly TimeSpan _announceEvery;
    private readonly TimeProvider _timeProvider;
    /// <summary>How long the store may fail before a follower gives up and ends its watcher's stream (its client resumes).</summary>
    private static readonly TimeSpan MaxOutage = TimeSpan.FromSeconds(30);

    private readonly SemaphoreSlim _wake = new(0, 1);
    private readonly RunLog _log;
    private long _lastId;

    private RunFollower(
        string runId, long afterId, IRunStore store, IRunSignals signals, TimeSpan poll, TimeSpan grace, TimeProvider timeProvider, ILogger logger)
    {
        _runId = runId;
        _lastId = afterId;
        _store = store;
        _signals = signals;
        _poll = poll;
        // Three announcements per grace, so one lost or late one does not cost the run.
        _announceEvery = grace / 3;
        _timeProvider = timeProvider;
        _logger = logger;
        // No grace: the log is this watcher's alone, and its leaving ends the follower.
        _log = new RunLog(runId, TimeSpan.Zero, timeProvider, startsAfter: afterId);
    }

    /// <summary>Starts following <paramref name="runId"/> after event <paramref name="afterId"/>; the watcher is the caller's to dispose.</summary>
    public static RunWatcher Start(
        string runId, long afterId, IRunStore store, IRunSignals signals, TimeSpan poll, TimeSpan grace, TimeSpan heartbeat,
        TimeProvider timeProvider, ILogger logger)
    {
        var follower = new RunFollower(runId, afterId, store, signals, poll, grace, timeProvider, logger);
        var watcher = follower._log.Attach(afterId, heartbeat);
        _ = Task.Run(follower.FollowAsync, CancellationToken.None);
        return watcher;
    }

    private async Task FollowAsync()
    {
        var stopped = _log.Cancellation;
        var subscription = _signals.SubscribeToEvents(_runId, Wake);
        var nextAnnouncement = 0L;
        long? failingSince = null;
        try
        {
            var signalled = true;
            while (!stopped.IsCancellationRequested)
            {
                if (_announceEvery > TimeSpan.Zero && _timeProvider.GetTimestamp() >= nextAnnouncement)
                {
                    await AnnounceAsync(stopped);
                    nextAnnouncement = _timeProvider.GetTimestamp() + (long)(_announceEvery.TotalSeconds * _timeProvider.TimestampFrequency);
                }

                try
                {
                    if (await CatchUpAsync(stopped) || (!signalled && await HasEndedAsync(stopped)))
                    {
                        return;
                    }

                    failingSince = null;
                }
                catch (Exception exception) when (exception is not OperationCanceledException || !stopped.IsCancellationRequested)
                {
                    // A store hiccup (a failover, an exhausted pool) must not cut the watcher's stream: read again at
                    // the next poll, and give up only when the store has been unreachable for long.
                    failingSince ??= _timeProvider.GetTimestamp();
                    if (_timeProvider.GetElapsedTime(failingSince.Value) > MaxOutage)
                    {
                        RunsLog.FollowFailed(_logger, exception, _runId);
                        return;
                    }

                    RunsLog.FollowRetrying(_logger, exception, _runId);
                }

                var wait = _announceEvery > TimeSpan.Zero && _announceEvery < _poll ? _announceEvery : _poll;
                signalled = await _wake.WaitAsync(wait, stopped);
            }
        }
        catch (OperationCanceledException) when (stopped.IsCancellationRequested)
        {
            // The watcher left.
        }
        finally
        {
            subscription.Dispose();
            _log.End(finished: null);
            Dispose();
        }
    }

    /// <summary>A lost announcement costs nothing while the next comes within the grace; it never ends the stream.</summary>
    private async Task AnnounceAsync(CancellationToken cancellationToken)
    {
        try
        {
            await _signals.SendWatchedAsync(_runId, cancellationToken);
        }
        catch (Exception exception) when (exception is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            RunsLog.AnnounceFailed(_logger, exception, _runId);
        }
    }

    /// <returns>True once the terminal event has been read.</returns>
    private async Task<bool> CatchUpAsync(CancellationToken cancellationToken)
    {
        foreach (var entry in await _store.GetEventsAsync(_runId, _lastId, cancellationToken))
        {
            _log.Append(entry);
            _lastId = entry.Id;
            if (RunFinishedEvent.IsTerminal(entry.Name))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// Checked when a whole poll passed without a signal: a run that is no longer running but whose terminal event is
    /// not in its log (it was removed, say) must not be followed for ever. Its last events are read first.
    /// </summary>
    private async Task<bool> HasEndedAsync(CancellationToken cancellationToken)
    {
        if (await _store.GetAsync(_runId, cancellationToken) is { Status: RunStatus.Running })
        {
            return false;
        }

        await CatchUpAsync(cancellationToken);
        return true;
    }

    private void Wake()
    {
        try
        {
            _wake.Release();
        }
        catch (SemaphoreFullException)
        {
            // A wake-up is already pending; one is enough.
        }
        catch (ObjectDisposedException)
        {
            // The follower has ended.
        }
    }

    public void Dispose() => _wake.Dispose();
}
