using System.Data.Common;
using System.Runtime.CompilerServices;
using Gateway.Storage;
using Gateway.Telemetry;

namespace Gateway.Runs;

/// <summary>An event the coordinator has logged, with the id it was given.</summary>
internal sealed record LoggedRunEvent(RunEventEntry Entry, RunEvent Event);

/// <summary>
/// Runs a <see cref="FlowRun"/> and keeps its log: every event gets the next id (1, 2, 3, ... with no gaps) and is
/// stored before anyone sees it, so what a client was sent can always be replayed from the store. The record is
/// saved when the run is registered, whenever a node starts or ends and at an llm node's first token (so a run cut off
/// with its replica shows which nodes were under way, where their calls went and what they spent), and at the end;
/// before any of those events is sent, so whoever reads the record after an event finds the event in it. Such events
/// the nodes have already sent when one is stored share its save (at most <see cref="MostEventsPerSave"/>): a flow of
/// 254 parallel nodes saved its record, megabytes by its end, ~760 times, 18–23 s of writes (now ~1.6 s).
/// </summary>
internal sealed class RunCoordinator(IRunStore store, Replica replica, TimeProvider timeProvider, GatewayMetrics metrics, ILogger<RunCoordinator> logger)
{
    /// <summary>The longest a run waits for its store, whatever the lease: a store gone for longer is not coming back soon.</summary>
    private static readonly TimeSpan MostStorePatience = TimeSpan.FromSeconds(20);

    /// <summary>The most events held back for one save of the record: a run whose events never pause still reaches its watchers.</summary>
    private const int MostEventsPerSave = 64;

    public async Task RegisterAsync(FlowRun run, CancellationToken cancellationToken)
    {
        // In its key's turn at the store's writer, as the run's later writes are (LiveRuns.DriveAsync).
        using var lane = StoreWriteLane.Enter(run.Owner);
        await store.CreateAsync(run.Snapshot(), run.Owner, replica.NewLease(), cancellationToken);
        RunsLog.Started(logger, run.RunId, run.FlowId);
    }

    /// <param name="run">A run registered with <see cref="RegisterAsync"/>.</param>
    /// <param name="ending">Called as the run ends, before its end is stored: before anyone, from any replica, can read it.</param>
    /// <param name="cancellationToken">Cancels the run itself; its remaining events, the terminal one included, are still logged.</param>
    public async IAsyncEnumerable<LoggedRunEvent> ExecuteAsync(FlowRun run, Action? ending, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var id = 0L;
        HashSet<string>? streaming = null;
        var held = new List<LoggedRunEvent>(); // stored, waiting for the record's save to be sent
        var saveDue = false;
        await foreach (var runEvent in run.ExecuteAsync(cancellationToken))
        {
            // The log must be complete even when the client that started the run has gone, hence no token here.
            var entry = new RunEventEntry(++id, runEvent.Name, RunEventJson.Serialize(runEvent));
            if (runEvent is RunFinishedEvent end)
            {
                ending?.Invoke();
                await WithRetriesAsync(static (store, state) => store.FinishAsync(state.Run, state.entry, CancellationToken.None), (end.Run, entry), run.RunId, entry);
            }
            else
            {
                await WithRetriesAsync(static (store, state) => store.AppendEventAsync(state.RunId, state.entry, CancellationToken.None), (run.RunId, entry), run.RunId, entry);
            }

            if (SavesRecord(runEvent))
            {
                saveDue = true;
                if (runEvent is TokenEvent first)
                {
                    (streaming ??= new(StringComparer.Ordinal)).Add(first.Node);
                }
            }

            if (runEvent is RunFinishedEvent finished)
            {
                saveDue = false; // its record is stored with it
                RunsLog.Finished(logger, run.RunId, finished.Run.Status);
                metrics.RunEnded(finished.Run.Status);
            }

            // With a save due, the events waiting behind this one that call for a save too are stored first and share
            // it. Nothing else is held back: not a node's tokens (a stream that never pauses held its own first token
            // and node.started behind 63 appends of its tokens), nor anything when no save is due.
            held.Add(new LoggedRunEvent(entry, runEvent));
            if (saveDue && held.Count < MostEventsPerSave && run.TryPeekWaiting(out var next) && SavesRecord(next))
            {
                continue;
            }

            if (saveDue)
            {
                // Saving a record again is harmless: no event to compare.
                await WithRetriesAsync(static (store, record) => store.SaveAsync(record, CancellationToken.None), run.Snapshot(), run.RunId, written: null);
                saveDue = false;
            }

            foreach (var logged in held)
            {
                yield return logged;
            }

            held.Clear();
        }

        // A node starting or ending; a node's first token: its llm call's route and prompt spend are in the record now
        // (LlmNodeRunner's onStreaming), so that a run cut off with its process shows them, and what its tokens cost.
        bool SavesRecord(RunEvent runEvent) =>
            runEvent is NodeStartedEvent or NodeCompletedEvent or NodeFailedEvent
            || (runEvent is TokenEvent token && streaming?.Contains(token.Node) is not true);
    }

    /// <summary>
    /// A write PostgreSQL refuses for a while (a failover, a restart: a transient error) is tried again while the run
    /// waits, for two thirds of a lease (and 20 s at most): the lease was last renewed up to a third of a lease before
    /// the store went, and once it lapses another replica may end the run as cut off. (SQLite waits for a lock held elsewhere within the write itself, up to its busy timeout.) Anything else, or
    /// a store away for longer, stops the run, and <see cref="LiveRuns"/> ends it with its terminal event once the store
    /// is back. A try that committed but lost its answer is found by its retry's duplicate key: if the event in the log
    /// is <paramref name="written"/>, the write is done.
    /// </summary>
    private async Task WithRetriesAsync<TState>(Func<IRunStore, TState, Task> write, TState state, string runId, RunEventEntry? written)
    {
        var patience = replica.LeaseDuration * 2 / 3 < MostStorePatience ? replica.LeaseDuration * 2 / 3 : MostStorePatience;
        long? firstFailure = null;
        bool StillPatient() => timeProvider.GetElapsedTime(firstFailure ??= timeProvider.GetTimestamp()) < patience;

        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await write(store, state);
                return;
            }
            catch (DbException exception) when (exception.IsTransient && StillPatient())
            {
                // 200, 400, 800, 1600, then 3200 ms between tries.
                var delay = TimeSpan.FromMilliseconds(100 << Math.Min(attempt, 5));
                RunsLog.StoreRetrying(logger, exception, attempt, (long)delay.TotalMilliseconds);
                await Task.Delay(delay, timeProvider);
            }
            catch (DbException exception) when (attempt > 1 && written is not null && StoreErrors.IsDuplicateKey(exception))
            {
                var stored = await store.GetEventsAsync(runId, written.Id - 1, CancellationToken.None);
                if (stored.Count > 0 && stored[0] == written)
                {
                    return;
                }

                throw;
            }
        }
    }
}
