using System.Collections.Concurrent;
using Gateway.Streaming;
using Gateway.Telemetry;
using Microsoft.Extensions.Options;

namespace Gateway.Runs;

/// <summary>
/// The runs of this process. Every run is driven by a task of its own, not by the request that started it, and
/// its events go to a <see cref="RunLog"/> that any number of watchers read. A finished run's live log is kept for
/// <c>EventRetentionMinutes</c>, within <c>EventRetentionMegabytes</c> (<see cref="RetainedRunLogs"/>); after that its
/// events are replayed from the store. When the gateway stops, the
/// runs still going get the shutdown drain to finish, then are interrupted and waited for, so each still logs its
/// terminal event (see <see cref="ShutdownDrain"/>).
/// </summary>
internal sealed class LiveRuns : IHostedService, IDisposable
{
    private readonly RunCoordinator _coordinator;
    private readonly GatewayMetrics _metrics;
    private readonly RunEnder _ender;
    private readonly IRunStore _store;
    private readonly IRunSignals _signals;
    private readonly IOptions<StreamingOptions> _options;
    private readonly IOptions<ClusterOptions> _cluster;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger<LiveRuns> _logger;
    private readonly ShutdownDrain _drain;
    private readonly CancellationTokenSource _stopping = new();
    private readonly CancellationTokenSource _givingUp = new();

    // Read once: a run that outlives a stop that gave up on it still reads them after the sources are disposed.
    private readonly CancellationToken _stoppingToken;
    private readonly CancellationToken _givingUpToken;
    private readonly ConcurrentDictionary<string, RunLog> _logs = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Task> _running = new(StringComparer.Ordinal);
    private readonly RetainedRunLogs _finished;
    private CancellationTokenRegistration _onDrained;

    public LiveRuns(
        RunCoordinator coordinator, RunEnder ender, ShutdownDrain drain, IRunStore store, IRunSignals signals, IOptions<StreamingOptions> options, IOptions<ClusterOptions> cluster,
        GatewayMetrics metrics, TimeProvider timeProvider, ILogger<LiveRuns> logger)
    {
        _coordinator = coordinator;
        _metrics = metrics;
        _ender = ender;
        _drain = drain;
        _stoppingToken = _stopping.Token;
        _givingUpToken = _givingUp.Token;
        _store = store;
        _signals = signals;
        _options = options;
        _cluster = cluster;
        _timeProvider = timeProvider;
        _logger = logger;
        _finished = new RetainedRunLogs(_logs, options.Value.EventRetention, options.Value.EventRetentionChars, timeProvider);
        drain.CountRunsWith(() => _running.Count);
        // What other replicas ask of the runs executing here.
        signals.CancelRequested += runId => TryCancelHere(runId);
        signals.WatchedElsewhere += runId =>
        {
            if (TryGet(runId, out var log))
            {
                log.WatchedElsewhere();
            }
        };
    }

    /// <summary>Registers <paramref name="run"/> (in the store and here) and starts it.</summary>
    /// <param name="run">A new run.</param>
    /// <param name="background">Whether the run goes on without watchers.</param>
    /// <param name="cancellationToken">Cancels the registration only; the run's lifetime is its log's.</param>
    /// <param name="ending">
    /// Called once as the run ends, before its end is stored (or, when it crashed, before its end is written for it):
    /// a caller who reads the end, from a watcher or the record, and starts another run finds this one counted out.
    /// </param>
    public async Task<RunLog> StartAsync(FlowRun run, bool background, CancellationToken cancellationToken, Action? ending = null)
    {
        var log = new RunLog(run.RunId, background ? null : _options.Value.DisconnectGrace, _timeProvider, acceptCancel: run.TryAcceptCancel)
        {
            Owner = run.Owner,
        };
        // Live before it is stored: whoever finds the run in the store finds its live log too.
        _logs[run.RunId] = log;
        try
        {
            await _coordinator.RegisterAsync(run, cancellationToken);
        }
        catch
        {
            _logs.TryRemove(run.RunId, out _);
            log.Dispose();
            throw;
        }

        var task = Task.Run(() => DriveAsync(run, log, ending), CancellationToken.None);
        _running.TryAdd(run.RunId, task);
        // Registered after the add, so even a run that has already finished is removed.
        _ = task.ContinueWith(finished => _running.TryRemove(KeyValuePair.Create(run.RunId, finished)), TaskScheduler.Default);
        return log;
    }

    public bool TryGet(string runId, out RunLog log) => _logs.TryGetValue(runId, out log!);

    /// <summary>The ids of the runs whose tasks are executing here now.</summary>
    public IReadOnlyCollection<string> ExecutingIds => [.. _running.Keys];

    /// <summary>
    /// A watcher of the events after <paramref name="afterId"/>: of the live log while the run executes here; of the
    /// store, followed live, while it executes on another replica; of the stored log once it has ended. Or why there
    /// is nothing to watch.
    /// </summary>
    /// <param name="runId">The run.</param>
    /// <param name="afterId">The id of the last event the caller has.</param>
    /// <param name="attach">False for a HEAD: the answer a watcher would get, without one (<see cref="WatchStart.WouldWatch"/>).</param>
    /// <param name="cancellationToken">The request's.</param>
    public async Task<WatchStart> WatchAsync(string runId, long afterId, bool attach, CancellationToken cancellationToken)
    {
        if (TryGet(runId, out var live))
        {
            var (lastId, isEnded, hasTerminal) = live.Position;
            if (hasTerminal && afterId >= lastId)
            {
                return new WatchStart.AllSent();
            }

            // Events are stored, then logged here (a write stores up to 64 at once): a caller may have had the newest
            // ones from a follower elsewhere, which the store then holds (asked only in that case; an id it does not
            // hold was never sent: a 400). A log that ended without its terminal event (the store's log ends such a run
            // later, as RunEnder does) is answered from the store.
            var sent = afterId <= lastId;
            if (afterId > lastId && !isEnded)
            {
                if (!await _store.HasEventAsync(runId, afterId, cancellationToken))
                {
                    return new WatchStart.NotSentYet();
                }

                if (await EndedSinceAsync(runId, cancellationToken) is { } ended)
                {
                    return await WatchStoredAsync(ended, afterId, attach, cancellationToken);
                }

                sent = true;
            }

            if (sent && (!isEnded || hasTerminal))
            {
                return attach ? new WatchStart.Watching(live.Attach(afterId, _options.Value.Heartbeat)) : new WatchStart.WouldWatch();
            }
        }

        // Asked before the record: the caller's newest event may be the run's terminal one, stored with the final record
        // in one transaction, so the record read after it is final too. Read the other way round, a run that ended
        // between the two reads was followed from after its end: a stream with nothing in it, where 204 was due.
        var sentHere = afterId == 0 || await _store.HasEventAsync(runId, afterId, cancellationToken);
        switch (await _store.GetAsync(runId, cancellationToken))
        {
            case null:
                return new WatchStart.NoSuchRun();
            case { Status: RunStatus.Running } when !sentHere:
                return new WatchStart.NotSentYet();
            case { Status: RunStatus.Running } when !attach:
                return new WatchStart.WouldWatch();
            case { Status: RunStatus.Running }:
                return new WatchStart.Watching(RunFollower.Start(
                    runId, afterId, _store, _signals, _cluster.Value.Poll, _options.Value.DisconnectGrace, _options.Value.Heartbeat, _timeProvider, _logger));
            case var ended:
                return await WatchStoredAsync(ended, afterId, attach, cancellationToken);
        }
    }

    /// <summary>
    /// The run's record if it has ended since its live log was last looked at: asked once the store holds the caller's
    /// newest event and this log does not yet, which may be the terminal one, stored with the final record in one
    /// transaction (<see cref="IRunStore.AppendEventsAsync"/>) before the log here has it. Watched from the log, the caller got
    /// a stream with nothing in it, where an ended run it has seen the end of answers 204.
    /// </summary>
    private async Task<RunRecord?> EndedSinceAsync(string runId, CancellationToken cancellationToken) =>
        await _store.GetAsync(runId, cancellationToken) is { Status: not RunStatus.Running } ended ? ended : null;

    /// <summary>
    /// A watcher of a run that has ended, its log read back from the store once and shared: kept among the finished
    /// runs' logs (within <c>EventRetentionMegabytes</c>), where the next watcher finds it. Each watcher loaded a copy
    /// of its own: 20 readers of one large run at once took a gateway under a 768 MB limit to OutOfMemoryException.
    /// </summary>
    private async Task<WatchStart> WatchStoredAsync(RunRecord ended, long afterId, bool attach, CancellationToken cancellationToken)
    {
        var runId = ended.RunId;
        // A caller who has the end (an EventSource reconnecting after it) is answered without reading the whole log;
        // so is a HEAD, which reads none of it. No event follows the largest id (nor is it asked for: the next would wrap).
        if ((afterId > 0 || !attach) && (afterId == long.MaxValue || !await _store.HasEventAsync(runId, afterId + 1, cancellationToken)))
        {
            return new WatchStart.AllSent();
        }

        if (!attach)
        {
            return new WatchStart.WouldWatch();
        }

        var events = await _store.GetEventsAsync(runId, 0, cancellationToken);
        if (events.Count == 0 || events[^1].Id <= afterId)
        {
            return new WatchStart.AllSent();
        }

        var stored = new RunLog(runId, grace: null, _timeProvider);
        foreach (var entry in events)
        {
            stored.Append(entry);
        }

        // Ended with its terminal event, as the store's log of an ended run is: ended without one, the copy kept was
        // taken for a live log still waiting for its end, and every later watcher read a copy of its own again.
        stored.End(RunFinishedEvent.IsTerminal(events[^1].Name) ? ended : null);
        // Another watcher may have read it back meanwhile: the first copy kept is the one read. Not a log still here
        // that ended without its terminal event (the store's has it, written later, as RunEnder does).
        var kept = _logs.GetOrAdd(runId, stored);
        var (_, _, keptIsWhole) = kept.Position;
        var reading = keptIsWhole ? kept : stored;
        var watcher = reading.Attach(afterId, _options.Value.Heartbeat);
        if (ReferenceEquals(kept, stored))
        {
            _finished.Keep(stored);
        }
        else if (!ReferenceEquals(reading, stored))
        {
            stored.Dispose();
        }

        return new WatchStart.Watching(watcher);
    }

    /// <summary>Cancels the run wherever it executes: here at once, on another replica through the store and a signal.</summary>
    /// <returns>False when the run is not running (it has ended, or no run has the id).</returns>
    public async Task<bool> CancelAsync(string runId, CancellationToken cancellationToken)
    {
        if (TryCancelHere(runId))
        {
            return true;
        }

        if (_logs.ContainsKey(runId) || !await _store.RequestCancelAsync(runId, cancellationToken))
        {
            return false;
        }

        try
        {
            await _signals.SendCancelAsync(runId, cancellationToken);
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            // The request is in the store: the executing replica finds it at its next lease renewal.
            RunsLog.CancelSignalFailed(_logger, exception, runId);
        }

        return true;
    }

    private bool TryCancelHere(string runId) => TryGet(runId, out var log) && log.Cancel();

    private async Task DriveAsync(FlowRun run, RunLog log, Action? ending)
    {
        // Every log line of the run carries its id, and its nodes' spans sit under the run's. Begun here, around the
        // loop that reads the run, not inside the iterators it reads: each step of an iterator runs in its reader's
        // context, so a scope or span begun inside one is gone by the time the nodes start.
        using var scope = RunLogScope.Begin(_logger, run.RunId, run.FlowId ?? "");
        using var span = GatewayActivities.StartRun(run.RunId, run.FlowId ?? "");
        // Its writes, its nodes' and its end's, take their turns at the store's writer as its key's.
        using var lane = Storage.StoreWriteLane.Enter(run.Owner);
        RunRecord? finished = null;
        // Once, whichever way the run ends: before its end is stored, or before a crashed run's end is written for it.
        void Ending() => Interlocked.Exchange(ref ending, null)?.Invoke();
        try
        {
            using var cancellation = CancellationTokenSource.CreateLinkedTokenSource(log.Cancellation);
            // Stopped by the gateway rather than by its caller: it ends interrupted. Marked before it is cancelled.
            using var interruption = _stoppingToken.Register(static state =>
            {
                var (run, cancellation) = ((FlowRun, CancellationTokenSource))state!;
                // A run its caller cancelled already stays cancelled.
                if (!cancellation.IsCancellationRequested)
                {
                    run.Interrupt();
                }

                cancellation.Cancel();
            }, (run, cancellation));
            await foreach (var (entry, runEvent) in _coordinator.ExecuteAsync(run, Ending, cancellation.Token))
            {
                log.Append(entry);
                if (runEvent is RunFinishedEvent end)
                {
                    finished = end.Run;
                }
            }
        }
        catch (Exception exception)
        {
            // An event id another writer took is a replica that claimed the run when this one stopped renewing its lease
            // (a stall past it), and ended it: not this run's crash. RunEnder keeps the end the other wrote, either way.
            var takenOver = exception is System.Data.Common.DbException db && Storage.StoreErrors.IsDuplicateKey(db);
            if (takenOver)
            {
                RunsLog.TakenOver(_logger, run.RunId);
            }
            else if (Storage.StoreErrors.IsUnavailable(exception))
            {
                RunsLog.RunStoppedStoreUnavailable(_logger, run.RunId, exception.Message);
            }
            else
            {
                RunsLog.RunCrashed(_logger, exception, run.RunId);
            }

            Ending();
            // Its watchers wait for the stored end as long as the run waited for its store (RunCoordinator), at most.
            finished = await _ender.EndCrashedAsync(run, log, RunCoordinator.StorePatience(_cluster.Value.Lease), _givingUpToken, _stoppingToken);
            // A run its coordinator could not end is counted with the others, as a crashed replica's are (RunLeases);
            // one taken over was counted by the replica that ended it.
            if (!takenOver)
            {
                _metrics.RunEnded(finished.Status);
            }
        }
        finally
        {
            if (finished is { Status: RunStatus.Failed or RunStatus.Interrupted, Error: { } error })
            {
                GatewayActivities.Failed(span, error.Code, error.Message);
            }

            Ending();
            log.End(finished);
            _finished.Keep(log);
        }
    }

    /// <summary>When the shutdown drain runs out, the runs still going are interrupted.</summary>
    public Task StartAsync(CancellationToken cancellationToken)
    {
        _onDrained = _drain.Stopped.Register(static state => ((LiveRuns)state!)._stopping.Cancel(), this);
        return Task.CompletedTask;
    }

    /// <summary>
    /// Waits for the runs to end: on their own within the shutdown drain, interrupted after it. What the host's
    /// patience leaves unfinished (a run still storing its end) is given up on, without failing the shutdown: those
    /// runs are ended at the next start, or by another replica once their leases lapse.
    /// </summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        try
        {
            await Task.WhenAll(_running.Values).WaitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            // Interrupts the runs too, should the host have stopped without the drain (a shorter ShutdownTimeout set in code).
            await _stopping.CancelAsync();
            await _givingUp.CancelAsync();
            RunsLog.StoppedWithRunsUnfinished(_logger, _running.Count);
        }
    }

    public void Dispose()
    {
        _onDrained.Dispose();
        _finished.Dispose();
        foreach (var log in _logs.Values)
        {
            log.Dispose();
        }

        _stopping.Dispose();
        _givingUp.Dispose();
    }
}
