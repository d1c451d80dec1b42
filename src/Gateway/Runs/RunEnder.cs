using System.Data.Common;
using System.Text.Json;
using Gateway.Storage;

namespace Gateway.Runs;

/// <summary>
/// Ends a run that its own task can no longer end: one whose replica died (its lease lapsed), or one whose events
/// this replica could no longer store. It logs the terminal event the run's log never got and saves the record, so
/// that no replay of the run ends silently. Another replica may be ending the same run at the same moment, or a
/// stalled one may log one more event: the event ids are unique, so one of them wins and the other reads the log again.
/// </summary>
internal sealed class RunEnder(IRunStore store, TimeProvider timeProvider, ILogger<RunEnder> logger)
{
    private const int MaxAttempts = 5;

    /// <summary>The message of an <c>interrupted</c> run whose replica stopped.</summary>
    public const string ReplicaStopped = "The gateway stopped before the run finished.";

    /// <summary>The message of an <c>interrupted</c> run whose events this replica could not store.</summary>
    public const string NotStored = "The run stopped: its events could not be stored.";

    /// <param name="run">The run as last known: a record still <c>running</c> ends <c>interrupted</c>, or <c>completed</c>
    /// when its log has every node's <c>node.completed</c>; one already final (its terminal event was all that was
    /// missing) keeps its status.</param>
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
            catch (DbException exception) when (StoreErrors.IsDuplicateKey(exception) && attempt < MaxAttempts)
            {
                // The event id was taken meanwhile; read the log again.
            }
        }
    }

    /// <summary>
    /// A run that stopped on an error (its events could not be stored: the store went away, or another replica
    /// ended the run while this one stalled) still gets its terminal event, in the store and then in its live log,
    /// so that neither its watchers here nor any replay ends silently. While the store stays away this tries again,
    /// and the watchers hear only keep-alives, for <paramref name="watchersWait"/> at most, or until the gateway stops
    /// (<paramref name="giveUp"/>), or not at all once the file is known gone until a restart: then the watchers are
    /// told the end the store will be given (<see cref="TellUnstored"/>), and it goes on being tried in the background
    /// until the store takes it or the gateway begins to stop (<paramref name="stopStoring"/>; the run is then ended at
    /// the next start, or by another replica once its lease lapses).
    /// </summary>
    /// <returns>The record the run ended with, as its terminal event carries it.</returns>
    public async Task<RunRecord> EndCrashedAsync(FlowRun run, RunLog log, TimeSpan watchersWait, CancellationToken giveUp, CancellationToken stopStoring)
    {
        var delay = TimeSpan.FromMilliseconds(200);
        var since = timeProvider.GetTimestamp();
        while (true)
        {
            try
            {
                var ended = await EndAsync(run.Snapshot(), NotStored, giveUp);
                // The terminal event, and any event the store took but this log never got, in order.
                foreach (var entry in await store.GetEventsAsync(run.RunId, log.LastId, giveUp))
                {
                    log.Append(entry);
                }

                return ended;
            }
            catch (OperationCanceledException) when (giveUp.IsCancellationRequested)
            {
                return TellUnstored(run, log).Run;
            }
            catch (StoreFileGoneException)
            {
                // Nothing but a restart brings it back, and the restart ends the run from the store.
                return TellUnstored(run, log).Run;
            }
            catch (Exception exception)
            {
                LogStoreFailure(exception, run.RunId, delay);
            }

            var left = watchersWait - timeProvider.GetElapsedTime(since);
            if (left <= TimeSpan.Zero)
            {
                var told = TellUnstored(run, log);
                _ = StoreToldAsync(told.Run, told.Terminal, stopStoring);
                return told.Run;
            }

            try
            {
                // The last try when the watchers' wait runs out, not a backoff's pause after it.
                await Task.Delay(left < delay ? left : delay, timeProvider, giveUp);
            }
            catch (OperationCanceledException)
            {
                return TellUnstored(run, log).Run;
            }

            delay = Doubled(delay);
        }
    }

    /// <summary>
    /// Puts in the run's live log, unstored, the terminal event the store would be given (built from what the live log
    /// holds, which is what the store holds of the run), so that its watchers end with it rather than wait for a store
    /// that may not come back before the gateway stops: a file deleted under it, a disk that stays full.
    /// </summary>
    private (RunRecord Run, RunEventEntry Terminal) TellUnstored(FlowRun run, RunLog log)
    {
        var events = new List<RunEventEntry>();
        log.Read(0, events);
        var (ended, terminal) = EndOf(run.Snapshot(), NotStored, events, timeProvider.GetUtcNow());
        log.Append(terminal);
        RunsLog.EndToldUnstored(logger, run.RunId, terminal.Id);
        return (ended, terminal);
    }

    /// <summary>
    /// Stores the end the watchers were told, once the store takes it. Its id taken meanwhile (another replica ended
    /// the run; or, on PostgreSQL, a burst whose answer was lost did commit), the run is ended from the store's log.
    /// </summary>
    private async Task StoreToldAsync(RunRecord ended, RunEventEntry terminal, CancellationToken giveUp)
    {
        var delay = TimeSpan.FromSeconds(1);
        var idTaken = false;
        while (true)
        {
            try
            {
                if (idTaken)
                {
                    await EndAsync(ended, NotStored, giveUp);
                    return;
                }

                await store.FinishAsync(ended, terminal, giveUp);
                RunsLog.ToldEndStored(logger, ended.RunId);
                return;
            }
            catch (OperationCanceledException) when (giveUp.IsCancellationRequested)
            {
                return;
            }
            catch (DbException exception) when (!idTaken && StoreErrors.IsDuplicateKey(exception))
            {
                RunsLog.ToldEndTaken(logger, ended.RunId, terminal.Id);
                idTaken = true;
                continue;
            }
            catch (StoreFileGoneException)
            {
                return; // the restart ends it from the store
            }
            catch (Exception exception)
            {
                LogStoreFailure(exception, ended.RunId, delay);
            }

            try
            {
                await Task.Delay(delay, timeProvider, giveUp);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            delay = Doubled(delay);
        }
    }

    /// <summary>
    /// A failed try at storing a run's end: with the store away, its reason alone (a line every few seconds for as long
    /// as it stays away, not a stack trace each); anything else with its stack trace.
    /// </summary>
    private void LogStoreFailure(Exception exception, string runId, TimeSpan retryIn)
    {
        if (StoreErrors.IsUnavailable(exception))
        {
            RunsLog.EndingCrashedRunWaits(logger, runId, exception.Message, (long)retryIn.TotalMilliseconds);
        }
        else
        {
            RunsLog.EndingCrashedRunFailed(logger, exception, runId, (long)retryIn.TotalMilliseconds);
        }
    }

    /// <summary>The pause before the next try: twice the last, 5 s at most.</summary>
    private static TimeSpan Doubled(TimeSpan delay) => TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromSeconds(5).Ticks));

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

        var (ended, terminal) = EndOf(run, message, events, timeProvider.GetUtcNow());
        await store.FinishAsync(ended, terminal, cancellationToken);
        return ended;
    }

    /// <summary>The record a run ends with, given the events of its log, and its terminal event, the one after them.</summary>
    private static (RunRecord Run, RunEventEntry Terminal) EndOf(RunRecord run, string message, IReadOnlyList<RunEventEntry> events, DateTimeOffset now)
    {
        var log = LogOf.Read(events);
        var ended = run.Status != RunStatus.Running ? run
            : run.Nodes.Count > 0 && run.Nodes.All(node => node.Value.Status == NodeStatus.Completed && log.Ended.Contains(node.Key)) ? Completed(run, now)
            : Interrupted(run, message, log, now);
        var terminal = new RunFinishedEvent(ended);
        var lastId = events.Count == 0 ? 0 : events[^1].Id;
        return (ended, new RunEventEntry(lastId + 1, terminal.Name, RunEventJson.Serialize(terminal)));
    }

    /// <summary>
    /// A run whose every node's end is in its log, its own end all that was lost: it completed, as a run whose gateway
    /// stops after its last node does (<see cref="RunState.Finish"/>). It ended <c>interrupted</c>, its outputs all
    /// there.
    /// </summary>
    private static RunRecord Completed(RunRecord run, DateTimeOffset now) => run with { Status = RunStatus.Completed, CompletedAt = now, Error = null };

    /// <param name="run">The run as last stored.</param>
    /// <param name="message">Why it stopped.</param>
    /// <param name="log">What its log holds of each node.</param>
    /// <param name="now">When it ended.</param>
    /// <remarks>
    /// A node is ended as its log shows it, which is what its watchers saw: the record saved with a run's events is the
    /// run's state as that write was made, and a node may have finished, its end and last tokens still queued behind
    /// the write, when the process went. Its record said <c>completed</c>, with its whole output, where the log had
    /// none of its end and some of its tokens (a probe killing a replica under 40 fast nodes: up to all 200 missing).
    /// Such a node is cut off with the run (<c>cancelled</c>, no output, not among the outputs); what it spent stays as
    /// its record has it, as the model reported it.
    /// </remarks>
    private static RunRecord Interrupted(RunRecord run, string message, LogOf log, DateTimeOffset now)
    {
        var nodes = run.Nodes.ToDictionary(
            pair => pair.Key,
            pair => pair.Value.Status switch
            {
                NodeStatus.Running => pair.Value with
                {
                    Status = NodeStatus.Cancelled,
                    CompletedAt = now,
                    Usage = CutSpend(pair.Value.Usage, log.Tokens.GetValueOrDefault(pair.Key)),
                },
                NodeStatus.Completed or NodeStatus.Failed when !log.Ended.Contains(pair.Key) => pair.Value with
                {
                    Status = NodeStatus.Cancelled,
                    Output = null,
                    FinishReason = null,
                    Error = null,
                    CompletedAt = now,
                },
                NodeStatus.Pending => pair.Value with { Status = NodeStatus.Skipped },
                _ => pair.Value,
            },
            StringComparer.Ordinal);
        return run with
        {
            Status = RunStatus.Interrupted,
            CompletedAt = now,
            Error = new RunError("interrupted", message, null),
            Nodes = nodes,
            Outputs = run.Outputs.Where(output => nodes.GetValueOrDefault(output.Key)?.Status == NodeStatus.Completed).ToDictionary(StringComparer.Ordinal),
            Usage = nodes.Values.Aggregate(TokenUsage.Zero, (total, node) => total.Add(node.Usage)),
        };
    }

    /// <summary>
    /// What a call cut off with its process spent, as a cancelled call is counted: its prompt, saved at its first
    /// token, and a token a chunk it logged. The price of those is the configuration's, which is not here: a cost
    /// known for the prompt alone would say less than it seems, so there is none.
    /// </summary>
    private static TokenUsage? CutSpend(TokenUsage? atFirstToken, long tokens) => tokens == 0
        ? atFirstToken
        : new TokenUsage((atFirstToken?.InputTokens ?? 0), (atFirstToken?.OutputTokens ?? 0) + tokens);

    /// <summary>What a run's log holds of its nodes: the token events of each, and which ended (<c>node.completed</c>, <c>node.failed</c>).</summary>
    private sealed record LogOf(Dictionary<string, long> Tokens, HashSet<string> Ended)
    {
        public static LogOf Read(IReadOnlyList<RunEventEntry> events)
        {
            var log = new LogOf(new(StringComparer.Ordinal), new(StringComparer.Ordinal));
            foreach (var entry in events.Where(entry => entry.Name is "token" or "node.completed" or "node.failed"))
            {
                using var data = JsonDocument.Parse(entry.Data);
                if (data.RootElement.ValueKind == JsonValueKind.Object && data.RootElement.TryGetProperty("node", out var node)
                    && node.ValueKind == JsonValueKind.String && node.GetString() is { } id)
                {
                    if (entry.Name == "token")
                    {
                        log.Tokens[id] = log.Tokens.GetValueOrDefault(id) + 1;
                    }
                    else
                    {
                        log.Ended.Add(id);
                    }
                }
            }

            return log;
        }
    }
}
