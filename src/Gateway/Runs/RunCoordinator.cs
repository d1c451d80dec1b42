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
/// with its replica shows which nodes were under way, where their calls went and what they spent), and at the end: in
/// the same write as those events, so whoever reads the record after an event finds the event in it. The events the
/// nodes have sent by the time one is stored go in the same write (at most <see cref="MostEventsPerWrite"/>): a flow of
/// 254 parallel nodes saved its record, megabytes by its end, ~760 times, 18–23 s of writes (now 1.2–1.3 s).
/// </summary>
internal sealed class RunCoordinator(IRunStore store, Replica replica, TimeProvider timeProvider, GatewayMetrics metrics, ILogger<RunCoordinator> logger)
{
    /// <summary>The longest a run waits for its store, whatever the lease: a store gone for longer is not coming back soon.</summary>
    private static readonly TimeSpan MostStorePatience = TimeSpan.FromSeconds(20);

    /// <summary>How long a run waits for a store that refuses its writes: two thirds of a lease, 20 s at most (<see cref="WithRetriesAsync"/>).</summary>
    public static TimeSpan StorePatience(TimeSpan lease) => lease * 2 / 3 < MostStorePatience ? lease * 2 / 3 : MostStorePatience;

    /// <summary>The most events stored in one write: a run whose events never pause still reaches its watchers.</summary>
    internal const int MostEventsPerWrite = 64;

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
        var pending = new List<LoggedRunEvent>(); // to be stored in one write, then sent
        var saveDue = false;
        await foreach (var runEvent in run.ExecuteAsync(cancellationToken))
        {
            // The log must be complete even when the client that started the run has gone, hence no token here.
            pending.Add(new LoggedRunEvent(new RunEventEntry(++id, runEvent.Name, RunEventJson.Serialize(runEvent)), runEvent));
            RunRecord? record;
            if (runEvent is RunFinishedEvent end)
            {
                ending?.Invoke();
                record = end.Run; // stored with its terminal event
            }
            else
            {
                if (SavesRecord(runEvent))
                {
                    saveDue = true;
                    if (runEvent is TokenEvent first)
                    {
                        (streaming ??= new(StringComparer.Ordinal)).Add(first.Node);
                    }
                }

                // What the nodes have sent already goes in the same write: a store slower than they are takes a burst
                // of events in one write (one turn at SQLite's writer, one round trip to PostgreSQL), not one each.
                if (pending.Count < MostEventsPerWrite && run.HasEventsWaiting)
                {
                    continue;
                }

                record = saveDue ? run.Snapshot() : null;
            }

            var entries = new RunEventEntry[pending.Count];
            for (var i = 0; i < entries.Length; i++)
            {
                entries[i] = pending[i].Entry;
            }

            await WithRetriesAsync(
                static (store, state) => store.AppendEventsAsync(state.RunId, state.entries, state.record, CancellationToken.None),
                (run.RunId, entries, record), run.RunId, written: entries[0], last: entries[^1].Id);
            saveDue = false;
            if (runEvent is RunFinishedEvent finished)
            {
                RunsLog.Finished(logger, run.RunId, finished.Run.Status);
                metrics.RunEnded(finished.Run.Status);
            }

            foreach (var logged in pending)
            {
                yield return logged;
            }

            pending.Clear();
        }

        // A node starting or ending; a node's first token: its llm call's route and prompt spend are in the record now
        // (LlmNodeRunner's onStreaming), so that a run cut off with its process shows them, and what its tokens cost.
        bool SavesRecord(RunEvent runEvent) =>
            runEvent is NodeStartedEvent or NodeCompletedEvent or NodeFailedEvent
            || (runEvent is TokenEvent token && streaming?.Contains(token.Node) is not true);
    }

    /// <summary>
    /// A write the store refuses for a while (PostgreSQL in a failover or a restart: a transient error; SQLite on a full
    /// or read-only disk, <see cref="StoreErrors.MayHeal"/>) is tried again while the run waits, for two thirds of
    /// a lease (and 20 s at most): the lease was last renewed up to a third of a lease before the store went, and once
    /// it lapses another replica may end the run as cut off. (SQLite waits for a lock held elsewhere within the write
    /// itself, up to its busy timeout, and then here.) Anything else, or
    /// a store away for longer, stops the run, and <see cref="LiveRuns"/> ends it with its terminal event once the store
    /// is back. A try that committed but lost its answer is found by its retry's duplicate key: if the event in the log
    /// is <paramref name="written"/>, the first of the write's events (they are stored together or not at all), the
    /// write is done, and what it would have told the replicas following the run (its events up to
    /// <paramref name="last"/>) is told now: they would otherwise learn of them at the run's next write, or their next
    /// poll.
    /// </summary>
    private async Task WithRetriesAsync<TState>(Func<IRunStore, TState, Task> write, TState state, string runId, RunEventEntry written, long last)
    {
        var patience = StorePatience(replica.LeaseDuration);
        long? firstFailure = null;
        bool StillPatient() => timeProvider.GetElapsedTime(firstFailure ??= timeProvider.GetTimestamp()) < patience;

        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await write(store, state);
                return;
            }
            catch (DbException exception) when ((exception.IsTransient || StoreErrors.MayHeal(exception)) && StillPatient())
            {
                // 200, 400, 800, 1600, then 3200 ms between tries; the last one when the patience runs out, not after.
                var delay = TimeSpan.FromMilliseconds(100 << Math.Min(attempt, 5));
                var left = patience - timeProvider.GetElapsedTime(firstFailure!.Value);
                delay = left < TimeSpan.Zero ? TimeSpan.Zero : left < delay ? left : delay;
                if (StoreErrors.IsUnavailable(exception))
                {
                    RunsLog.StoreRetryingUnavailable(logger, attempt, exception.Message, (long)delay.TotalMilliseconds);
                }
                else
                {
                    RunsLog.StoreRetrying(logger, exception, attempt, (long)delay.TotalMilliseconds);
                }

                await Task.Delay(delay, timeProvider);
            }
            catch (DbException exception) when (attempt > 1 && StoreErrors.IsDuplicateKey(exception))
            {
                var stored = await store.GetEventsAsync(runId, written.Id - 1, CancellationToken.None);
                if (stored.Count > 0 && stored[0] == written)
                {
                    store.AnnounceEvents(runId, last);
                    return;
                }

                throw;
            }
        }
    }
}
