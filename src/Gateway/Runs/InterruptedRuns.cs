using Gateway.Telemetry;
namespace Gateway.Runs;

/// <summary>
/// At start-up, before requests are served: runs still marked running were cut off when the previous process
/// stopped. Each becomes <c>interrupted</c> and its log gets the terminal event it never had, so no replay of it
/// ends silently. Registered after the store, whose schema is created in the same start-up step.
/// </summary>
internal sealed class InterruptedRuns(IRunStore store, TimeProvider timeProvider, GatewayMetrics metrics, ILogger<InterruptedRuns> logger) : IHostedLifecycleService
{
    public async Task StartingAsync(CancellationToken cancellationToken)
    {
        foreach (var run in await store.ListByStatusAsync(RunStatus.Running, cancellationToken))
        {
            var now = timeProvider.GetUtcNow();
            var interrupted = run with
            {
                Status = RunStatus.Interrupted,
                CompletedAt = now,
                Error = new RunError("interrupted", "The gateway stopped before the run finished.", null),
                Nodes = run.Nodes.ToDictionary(
                    pair => pair.Key,
                    pair => pair.Value.Status switch
                    {
                        NodeStatus.Running => pair.Value with { Status = NodeStatus.Cancelled, CompletedAt = now },
                        NodeStatus.Pending => pair.Value with { Status = NodeStatus.Skipped },
                        _ => pair.Value,
                    },
                    StringComparer.Ordinal),
            };
            var events = await store.GetEventsAsync(run.RunId, 0, cancellationToken);
            var lastId = events.Count == 0 ? 0 : events[^1].Id;
            var terminal = new RunFinishedEvent(interrupted);
            await store.AppendEventAsync(run.RunId, new RunEventEntry(lastId + 1, terminal.Name, RunEventJson.Serialize(terminal)), cancellationToken);
            await store.SaveAsync(interrupted, cancellationToken);
            RunsLog.Interrupted(logger, run.RunId);
            metrics.RunEnded(RunStatus.Interrupted);
        }
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
