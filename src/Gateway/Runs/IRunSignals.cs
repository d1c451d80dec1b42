namespace Gateway.Runs;

/// <summary>
/// What replicas sharing a store tell each other about runs, beside what the store holds: that a run has new events,
/// that a run should be cancelled now, that a run is watched from elsewhere. The first two only hurry things along: a
/// lost one delays, never loses, an event (followers also poll the store) or a cancel (also recorded in the store).
/// "Watched" has no such fallback: while signals are lost, a run whose only watchers are on other replicas is
/// cancelled when its disconnect grace runs out, as if nobody watched it (background runs are never cancelled so).
/// </summary>
internal interface IRunSignals
{
    /// <summary>A run's executing replica is asked to cancel it (by any replica, this one included).</summary>
    event Action<string>? CancelRequested;

    /// <summary>A run is followed by a watcher on another replica.</summary>
    event Action<string>? WatchedElsewhere;

    /// <summary>Calls <paramref name="wake"/> whenever any replica may have logged new events of the run, until disposed.</summary>
    IDisposable SubscribeToEvents(string runId, Action wake);

    Task SendCancelAsync(string runId, CancellationToken cancellationToken);

    Task SendWatchedAsync(string runId, CancellationToken cancellationToken);
}
