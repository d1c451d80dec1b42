namespace Gateway.Storage;

/// <summary>The PostgreSQL notification channels the store raises, for the replicas that LISTEN on them.</summary>
internal static class PostgresChannels
{
    /// <summary>
    /// Raised by every write of run events, once its rows are committed, with the payload <c>{runId}:{eventId}</c> (the
    /// write's last id): a replica following the run reads the events it has not seen from <c>run_events</c>.
    /// </summary>
    public const string RunEvents = "gateway_run_events";

    /// <summary>
    /// What a replica asks of the one executing a run: <c>cancel:{runId}</c> (cancel it now; the store's cancel
    /// request is the fallback) or <c>watched:{runId}</c> (a watcher follows it from here: restart its disconnect grace).
    /// </summary>
    public const string RunControl = "gateway_run_control";
}
