using System.Collections.Concurrent;
using Gateway.Streaming;
using Microsoft.Extensions.Options;

namespace Gateway.Runs;

/// <summary>
/// The runs of this process. Every run is driven by a task of its own, not by the request that started it, and
/// its events go to a <see cref="RunLog"/> that any number of watchers read. A finished run's live log is kept for
/// <c>EventRetentionMinutes</c>; after that its events are replayed from the store. When the gateway stops, the
/// runs still going are cancelled and waited for, so each still logs its terminal event.
/// </summary>
internal sealed class LiveRuns(
    RunCoordinator coordinator, IRunStore store, IOptions<StreamingOptions> options, TimeProvider timeProvider, ILogger<LiveRuns> logger)
    : IHostedService, IDisposable
{
    private readonly CancellationTokenSource _stopping = new();
    private readonly ConcurrentDictionary<string, RunLog> _logs = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Task> _running = new(StringComparer.Ordinal);

    /// <summary>Registers <paramref name="run"/> (in the store and here) and starts it.</summary>
    /// <param name="run">A new run.</param>
    /// <param name="background">Whether the run goes on without watchers.</param>
    /// <param name="cancellationToken">Cancels the registration only; the run's lifetime is its log's.</param>
    public async Task<RunLog> StartAsync(FlowRun run, bool background, CancellationToken cancellationToken)
    {
        var log = new RunLog(run.RunId, background ? null : options.Value.DisconnectGrace, timeProvider);
        // Live before it is stored: whoever finds the run in the store finds its live log too.
        _logs[run.RunId] = log;
        try
        {
            await coordinator.RegisterAsync(run, cancellationToken);
        }
        catch
        {
            _logs.TryRemove(run.RunId, out _);
            log.Dispose();
            throw;
        }

        var task = Task.Run(() => DriveAsync(run, log), CancellationToken.None);
        _running.TryAdd(run.RunId, task);
        // Registered after the add, so even a run that has already finished is removed.
        _ = task.ContinueWith(finished => _running.TryRemove(KeyValuePair.Create(run.RunId, finished)), TaskScheduler.Default);
        return log;
    }

    public bool TryGet(string runId, out RunLog log) => _logs.TryGetValue(runId, out log!);

    /// <summary>
    /// A watcher of the events after <paramref name="afterId"/>: of the live log while there is one, else of the
    /// stored log (already ended); null when no run has the id.
    /// </summary>
    public async Task<RunWatcher?> WatchAsync(string runId, long afterId, CancellationToken cancellationToken)
    {
        if (TryGet(runId, out var live))
        {
            return live.Attach(afterId, options.Value.Heartbeat);
        }

        if (await store.GetAsync(runId, cancellationToken) is null)
        {
            return null;
        }

        // Read from the start: the log's index is the event's id.
        var stored = new RunLog(runId, grace: null, timeProvider);
        foreach (var entry in await store.GetEventsAsync(runId, 0, cancellationToken))
        {
            stored.Append(entry);
        }

        stored.End(finished: null);
        return stored.Attach(afterId, options.Value.Heartbeat);
    }

    private async Task DriveAsync(FlowRun run, RunLog log)
    {
        RunRecord? finished = null;
        try
        {
            using var cancellation = CancellationTokenSource.CreateLinkedTokenSource(log.Cancellation, _stopping.Token);
            await foreach (var (entry, runEvent) in coordinator.ExecuteAsync(run, cancellation.Token))
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
            RunsLog.RunCrashed(logger, exception, run.RunId);
        }
        finally
        {
            log.End(finished);
            _ = ExpireAsync(log);
        }
    }

    private async Task ExpireAsync(RunLog log)
    {
        try
        {
            await Task.Delay(options.Value.EventRetention, timeProvider, _stopping.Token);
        }
        catch (OperationCanceledException)
        {
            return;
        }

        if (_logs.TryRemove(KeyValuePair.Create(log.RunId, log)))
        {
            log.Dispose();
        }
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync();
        await Task.WhenAll(_running.Values).WaitAsync(cancellationToken);
    }

    public void Dispose()
    {
        foreach (var log in _logs.Values)
        {
            log.Dispose();
        }

        _stopping.Dispose();
    }
}
