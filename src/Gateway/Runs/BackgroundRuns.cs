using System.Collections.Concurrent;

namespace Gateway.Runs;

/// <summary>
/// Runs started with <c>?background=true</c>: they belong to the gateway, not to a request. When the gateway
/// stops they are cancelled and waited for, so each still logs its terminal event.
/// </summary>
internal sealed class BackgroundRuns(RunCoordinator coordinator, ILogger<BackgroundRuns> logger) : IHostedService, IDisposable
{
    private readonly CancellationTokenSource _stopping = new();
    private readonly ConcurrentDictionary<string, Task> _running = new(StringComparer.Ordinal);

    public void Start(FlowRun run)
    {
        var task = Task.Run(() => DrainAsync(run));
        _running.TryAdd(run.RunId, task);
        // Registered after the add, so even a run that has already finished is removed.
        _ = task.ContinueWith(finished => _running.TryRemove(KeyValuePair.Create(run.RunId, finished)), TaskScheduler.Default);
    }

    private async Task DrainAsync(FlowRun run)
    {
        try
        {
            await foreach (var _ in coordinator.ExecuteAsync(run, _stopping.Token))
            {
            }
        }
        catch (Exception exception)
        {
            RunsLog.BackgroundRunCrashed(logger, exception, run.RunId);
        }
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync();
        await Task.WhenAll(_running.Values).WaitAsync(cancellationToken);
    }

    public void Dispose() => _stopping.Dispose();
}
