namespace Gateway.Runs;

/// <summary>Where run records and their event logs are kept.</summary>
internal interface IRunStore
{
    /// <summary>Whether other replicas may use this store too (PostgreSQL); an embedded file (SQLite) is this process's alone.</summary>
    bool IsShared { get; }

    /// <param name="run">The new run's record.</param>
    /// <param name="owner">The name of the API key that started it.</param>
    /// <param name="lease">The replica that executes it, which renews this with <see cref="RenewLeasesAsync"/>.</param>
    /// <param name="cancellationToken">The caller's.</param>
    Task CreateAsync(RunRecord run, string owner, RunLease lease, CancellationToken cancellationToken);

    /// <summary>
    /// The name of the API key that started the run ("" for one stored before owners were: every admin's); null for an
    /// unknown run, also one whose log this process still keeps (deleted past its retention, or by another replica).
    /// </summary>
    Task<string?> GetOwnerAsync(string runId, CancellationToken cancellationToken);

    /// <summary>
    /// Replaces the stored record of <paramref name="run"/>'s id, while the stored one is running: a run that has
    /// ended (ended by another replica, say, when this one stalled past its lease) stays as it ended.
    /// </summary>
    Task SaveAsync(RunRecord run, CancellationToken cancellationToken);

    /// <summary>
    /// Adds events to a run's log (ids are unique per run) and, given a record, saves it as <see cref="SaveAsync"/> does,
    /// in one transaction: a burst of events costs one write, and whoever is told of them finds the record saved with
    /// them. Nothing is written if one of the ids is taken.
    /// </summary>
    /// <param name="runId">The run.</param>
    /// <param name="entries">The events, in order.</param>
    /// <param name="run">The run's record to save with them; null: none.</param>
    /// <param name="cancellationToken">The caller's.</param>
    Task AppendEventsAsync(string runId, IReadOnlyList<RunEventEntry> entries, RunRecord? run, CancellationToken cancellationToken);

    /// <summary>
    /// Adds a run's terminal event and saves its final record in one transaction (<see cref="AppendEventsAsync"/>), so
    /// that whoever is told of the event finds the record final too; neither is written if the event's id is taken.
    /// </summary>
    Task FinishAsync(RunRecord run, RunEventEntry terminal, CancellationToken cancellationToken);

    /// <summary>
    /// Tells the replicas following the run that its log holds events up to <paramref name="eventId"/>, as a write of
    /// events does once it commits: for a write found committed after its answer (and its notice) was lost. Nothing
    /// where no other replica follows (SQLite).
    /// </summary>
    void AnnounceEvents(string runId, long eventId);

    Task<RunRecord?> GetAsync(string runId, CancellationToken cancellationToken);

    /// <summary>
    /// The record's JSON as stored, in UTF-8, with the name of the key that started it, in one read; null for an unknown
    /// run. Bytes, not a <see cref="RunRecord"/>: <c>GET /api/runs/{runId}</c> answers them as they are
    /// (<see cref="StoredRunRecord"/>), and a record may weigh megabytes.
    /// </summary>
    Task<(byte[] Record, string? Owner)?> GetJsonWithOwnerAsync(string runId, CancellationToken cancellationToken);

    /// <summary>
    /// The ids of the most recent runs first, of one flow or of all, of one owner or of all. Ids, not records: a record
    /// holds every node's output and may weigh megabytes, so a page of them is read one record at a time.
    /// </summary>
    Task<IReadOnlyList<string>> ListIdsAsync(string? flowId, string? owner, int limit, CancellationToken cancellationToken);

    /// <summary>
    /// Hands each run created in [<paramref name="from"/>, <paramref name="to"/>), of one owner or of all, to
    /// <paramref name="visit"/> with its owner, oldest first, one at a time: a month of records is never held at once.
    /// </summary>
    Task VisitCreatedBetweenAsync(
        DateTimeOffset from, DateTimeOffset to, string? owner, Action<RunRecord, string?> visit, CancellationToken cancellationToken);

    /// <summary>
    /// Deletes up to <paramref name="limit"/> runs created before <paramref name="cutoff"/> that have ended, oldest
    /// first, with their event logs; a run still running is kept however old. Bounded, so that one call never holds
    /// the store's writes up for long.
    /// </summary>
    /// <returns>How many runs were deleted: fewer than <paramref name="limit"/> when no more are due.</returns>
    Task<int> DeleteEndedBeforeAsync(DateTimeOffset cutoff, int limit, CancellationToken cancellationToken);

    /// <summary>Runs in <paramref name="status"/>, oldest first.</summary>
    Task<IReadOnlyList<RunRecord>> ListByStatusAsync(string status, CancellationToken cancellationToken);

    /// <summary>Whether the run's log holds the event with id <paramref name="eventId"/>: one a caller may have been sent.</summary>
    Task<bool> HasEventAsync(string runId, long eventId, CancellationToken cancellationToken);

    /// <summary>A run's logged events with ids above <paramref name="afterId"/>, in order: what a replay sends.</summary>
    Task<IReadOnlyList<RunEventEntry>> GetEventsAsync(string runId, long afterId, CancellationToken cancellationToken);

    /// <summary>Sets to <paramref name="expiresAt"/> the lease of the running runs that <paramref name="replica"/> holds.</summary>
    /// <param name="replica">The replica.</param>
    /// <param name="runIds">
    /// Only these: the runs the replica still executes, so that one whose task died without ending it lapses and is
    /// ended by whoever claims it. Null: every run it holds.
    /// </param>
    /// <param name="expiresAt">The new expiry; one in the past gives the runs up.</param>
    /// <param name="cancellationToken">The caller's.</param>
    /// <returns>The ids of those runs that a cancel was requested for (<see cref="RequestCancelAsync"/>).</returns>
    Task<IReadOnlyList<string>> RenewLeasesAsync(
        string replica, IReadOnlyCollection<string>? runIds, DateTimeOffset expiresAt, CancellationToken cancellationToken);

    /// <summary>Records that the run should be cancelled, for the replica that executes it to find on its next renewal.</summary>
    /// <returns>False when no running run has that id.</returns>
    Task<bool> RequestCancelAsync(string runId, CancellationToken cancellationToken);

    /// <summary>
    /// Takes over every running run whose lease lapsed before <paramref name="now"/> (or that has none): each such run
    /// is handed to exactly one caller, even when replicas claim at the same moment, and is then held by
    /// <paramref name="claimant"/>. The caller ends them (they are runs whose replica died).
    /// </summary>
    Task<IReadOnlyList<RunRecord>> ClaimLapsedAsync(RunLease claimant, DateTimeOffset now, CancellationToken cancellationToken);
}
