namespace Gateway.Storage;

/// <summary>
/// Tells the replicas following runs that there are new events, once the events have committed: one
/// <c>NOTIFY</c> transaction carries whatever piled up while the last one was sent (per run, its newest event id),
/// and it commits without waiting for the disk, on a connection of its own (<see cref="PostgresDatabase.NoticeSource"/>).
/// </summary>
/// <remarks>
/// Why not notify inside the event's own transaction: PostgreSQL commits notifying transactions one at a time,
/// holding a lock across the commit's wait for the WAL to reach the disk. With every event notifying, every
/// event's flush queued behind the others': on a default server, 28 runs writing at once stored ~2.5–2.9 times as
/// many events a second once the notice left the event's transaction (docs/BENCHMARKS.md, "Run events on
/// PostgreSQL: the notice after the commit"; <c>bench/run-events.sh</c>). A notice is only a
/// wake-up (followers also poll the store), so one lost to a crash delays an event and never loses it, which is why
/// its commit need not wait for the disk either.
/// </remarks>
internal sealed partial class PostgresEventNotices(PostgresDatabase database, ILogger<PostgresEventNotices> logger) : IAsyncDisposable
{
    private readonly Lock _gate = new();
    private Dictionary<string, long> _pending = new(StringComparer.Ordinal);
    private Task _sending = Task.CompletedTask;
    private bool _isSending;

    /// <summary>Queues a notice that <paramref name="runId"/> has events up to <paramref name="eventId"/>; call it after they commit.</summary>
    public void Raise(string runId, long eventId)
    {
        lock (_gate)
        {
            _pending[runId] = _pending.TryGetValue(runId, out var queued) ? Math.Max(queued, eventId) : eventId;
            if (_isSending)
            {
                return;
            }

            _isSending = true;
            _sending = Task.Run(SendUntilNoneLeftAsync);
        }
    }

    /// <summary>Sends what is queued before the data source it needs goes, for a few seconds at most.</summary>
    public async ValueTask DisposeAsync()
    {
        Task sending;
        lock (_gate)
        {
            sending = _sending;
        }

        await sending.WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }

    private async Task SendUntilNoneLeftAsync()
    {
        while (true)
        {
            Dictionary<string, long> notices;
            lock (_gate)
            {
                if (_pending.Count == 0)
                {
                    _isSending = false;
                    return;
                }

                notices = _pending;
                _pending = new(StringComparer.Ordinal);
            }

            try
            {
                await SendAsync(notices);
            }
            catch (Exception exception)
            {
                // Nothing is lost: the followers' next poll of the store finds the events.
                LogNoticesLost(logger, exception, notices.Count);
            }
        }
    }

    private async Task SendAsync(Dictionary<string, long> notices)
    {
        var payloads = new string[notices.Count];
        var i = 0;
        foreach (var (runId, eventId) in notices)
        {
            payloads[i++] = $"{runId}:{eventId}";
        }

        // One statement, so one round trip; the setting lasts until its own transaction commits, which is what reads it.
        await using var command = database.NoticeSource.Command(
            $"""
            SELECT pg_notify('{PostgresChannels.RunEvents}', notice)
            FROM set_config('synchronous_commit', 'off', true), unnest(@notices) AS notice;
            """,
            ("notices", payloads));
        await command.ExecuteNonQueryAsync();
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Telling other replicas of new events of {Runs} run(s) failed; their followers find them at their next poll")]
    private static partial void LogNoticesLost(ILogger logger, Exception exception, int runs);
}
