using Gateway.Runs;

namespace Gateway.Tests.Runs;

/// <summary>
/// A run store whose <see cref="FinishAsync"/> returns only when <see cref="Release"/> is set, after the terminal event
/// and the final record are stored: the moment a run's end is in the store and not yet in its live log.
/// </summary>
internal sealed class HeldFinishRunStore(IRunStore inner) : IRunStore
{
    private readonly TaskCompletionSource _stored = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completes when a terminal event is stored.</summary>
    public Task Stored => _stored.Task;

    public TaskCompletionSource Release { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public bool IsShared => inner.IsShared;

    public async Task FinishAsync(RunRecord run, RunEventEntry terminal, CancellationToken cancellationToken)
    {
        await inner.FinishAsync(run, terminal, cancellationToken);
        _stored.TrySetResult();
        await Release.Task;
    }

    public Task CreateAsync(RunRecord run, string owner, RunLease lease, CancellationToken cancellationToken) => inner.CreateAsync(run, owner, lease, cancellationToken);

    public Task<string?> GetOwnerAsync(string runId, CancellationToken cancellationToken) => inner.GetOwnerAsync(runId, cancellationToken);

    public Task SaveAsync(RunRecord run, CancellationToken cancellationToken) => inner.SaveAsync(run, cancellationToken);

    public Task AppendEventAsync(string runId, RunEventEntry entry, CancellationToken cancellationToken) => inner.AppendEventAsync(runId, entry, cancellationToken);

    public Task<RunRecord?> GetAsync(string runId, CancellationToken cancellationToken) => inner.GetAsync(runId, cancellationToken);

    public Task<(RunRecord Run, string? Owner)?> GetWithOwnerAsync(string runId, CancellationToken cancellationToken) => inner.GetWithOwnerAsync(runId, cancellationToken);

    public Task<IReadOnlyList<string>> ListIdsAsync(string? flowId, string? owner, int limit, CancellationToken cancellationToken) =>
        inner.ListIdsAsync(flowId, owner, limit, cancellationToken);

    public Task VisitCreatedBetweenAsync(
        DateTimeOffset from, DateTimeOffset to, string? owner, Action<RunRecord, string?> visit, CancellationToken cancellationToken) =>
        inner.VisitCreatedBetweenAsync(from, to, owner, visit, cancellationToken);

    public Task<int> DeleteEndedBeforeAsync(DateTimeOffset cutoff, int limit, CancellationToken cancellationToken) => inner.DeleteEndedBeforeAsync(cutoff, limit, cancellationToken);

    public Task<IReadOnlyList<RunRecord>> ListByStatusAsync(string status, CancellationToken cancellationToken) => inner.ListByStatusAsync(status, cancellationToken);

    public Task<bool> HasEventAsync(string runId, long eventId, CancellationToken cancellationToken) => inner.HasEventAsync(runId, eventId, cancellationToken);

    public Task<IReadOnlyList<RunEventEntry>> GetEventsAsync(string runId, long afterId, CancellationToken cancellationToken) =>
        inner.GetEventsAsync(runId, afterId, cancellationToken);

    public Task<IReadOnlyList<string>> RenewLeasesAsync(
        string replica, IReadOnlyCollection<string>? runIds, DateTimeOffset expiresAt, CancellationToken cancellationToken) =>
        inner.RenewLeasesAsync(replica, runIds, expiresAt, cancellationToken);

    public Task<bool> RequestCancelAsync(string runId, CancellationToken cancellationToken) => inner.RequestCancelAsync(runId, cancellationToken);

    public Task<IReadOnlyList<RunRecord>> ClaimLapsedAsync(RunLease claimant, DateTimeOffset now, CancellationToken cancellationToken) =>
        inner.ClaimLapsedAsync(claimant, now, cancellationToken);
}
