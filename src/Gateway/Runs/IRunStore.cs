namespace Gateway.Runs;

/// <summary>Where run records and their event logs are kept.</summary>
internal interface IRunStore
{
    Task CreateAsync(RunRecord run, CancellationToken cancellationToken);

    /// <summary>Replaces the stored record of <paramref name="run"/>'s id.</summary>
    Task SaveAsync(RunRecord run, CancellationToken cancellationToken);

    /// <summary>Adds an event to a run's log; ids are unique per run.</summary>
    Task AppendEventAsync(string runId, RunEventEntry entry, CancellationToken cancellationToken);

    Task<RunRecord?> GetAsync(string runId, CancellationToken cancellationToken);

    /// <summary>The most recent runs first, of one flow or of all.</summary>
    Task<IReadOnlyList<RunRecord>> ListAsync(string? flowId, int limit, CancellationToken cancellationToken);

    /// <summary>Runs in <paramref name="status"/>, oldest first.</summary>
    Task<IReadOnlyList<RunRecord>> ListByStatusAsync(string status, CancellationToken cancellationToken);

    /// <summary>A run's logged events with ids above <paramref name="afterId"/>, in order: what a replay sends.</summary>
    Task<IReadOnlyList<RunEventEntry>> GetEventsAsync(string runId, long afterId, CancellationToken cancellationToken);
}
