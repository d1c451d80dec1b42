namespace Gateway.Storage;

/// <summary>The PostgreSQL notification channels the store raises, for the replicas that LISTEN on them.</summary>
public static class PostgresChannels
{
    /// <summary>
    /// Raised by every appended run event, once its row is committed, with the payload <c>{runId}:{eventId}</c>: a
    /// replica following the run reads the events it has not seen from <c>run_events</c>.
    /// </summary>
    public const string RunEvents = "gateway_run_events";
}
