using System.Data.Common;

namespace Gateway.Runs;

/// <summary>
/// Ends a run that its own task can no longer end: one whose replica died (its lease lapsed), or one whose events
/// this replica could no longer store. It logs the terminal event the run's log never got and saves the record, so
/// that no replay of the run ends silently. Another replica may be ending the same run at the same moment, or a
/// stalled one may log one more event: the event ids are unique, so one of them wins and the other reads the log again.
/// </summary>
internal sealed class RunEnder(IRunStore store, TimeProvider timeProvider)
{
    private const int MaxAttempts = 5;

    /// <summary>The message of an <c>interrupted</c> run whose replica stopped.</summary>
    public const string ReplicaStopped = "The gateway stopped before the run finished.";

    /// <param name="run">The run as last known: a record still <c>running</c> ends <c>interrupted</c>; one already
    /// final (its terminal event was all that was missing) keeps its status.</param>
    /// <param name="message">Why an interrupted run stopped, for its record's error.</param>
    /// <param name="cancellationToken">Cancels the attempt.</param>
    /// <returns>The record the run ended with, as its terminal event carries it.</returns>
    public async Task<RunRecord> EndAsync(RunRecord run, string message, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await TryEndAsync(run, message, cancellationToken);
            }
            catch (DbException exception) when (!exception.IsTransient && attempt < MaxAttempts)
            {
                // The event id was taken meanwhile; read the log again.
            }
        }
    }

    /// <summary>Logs the terminal event and saves the record; a run whose terminal event is already in its log keeps it.</summary>
    private async Task<RunRecord> TryEndAsync(RunRecord run, string message, CancellationToken cancellationToken)
    {
        var events = await store.GetEventsAsync(run.RunId, 0, cancellationToken);
        if (events.Count > 0 && RunFinishedEvent.IsTerminal(events[^1].Name))
        {
            var finished = RunEventJson.DeserializeRecord(events[^1].Data);
            await store.SaveAsync(finished, cancellationToken);
            return finished;
        }

        var ended = run.Status == RunStatus.Running ? Interrupted(run, message, timeProvider.GetUtcNow()) : run;
        var terminal = new RunFinishedEvent(ended);
        var lastId = events.Count == 0 ? 0 : events[^1].Id;
        await store.FinishAsync(ended, new RunEventEntry(lastId + 1, terminal.Name, RunEventJson.Serialize(terminal)), cancellationToken);
        return ended;
    }

    private static RunRecord Interrupted(RunRecord run, string message, DateTimeOffset now) => run with
    {
        Status = RunStatus.Interrupted,
        CompletedAt = now,
        Error = new RunError("interrupted", message, null),
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
}
