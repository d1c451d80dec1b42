namespace Gateway.Runs;

/// <summary>What a request to watch a run's events after a given id comes to (<see cref="LiveRuns.WatchAsync"/>).</summary>
internal abstract record WatchStart
{
    /// <summary>Events follow, through the terminal one.</summary>
    public sealed record Watching(RunWatcher Watcher) : WatchStart;

    /// <summary>
    /// Events would follow: the answer to a HEAD, for which no watcher is attached (one would count as the run's
    /// watcher against its disconnect grace), no follower started and no ended run's log read back.
    /// </summary>
    public sealed record WouldWatch : WatchStart;

    /// <summary>No run has the id.</summary>
    public sealed record NoSuchRun : WatchStart;

    /// <summary>
    /// The run has ended and the caller has every event, the terminal one included: nothing will ever follow. (An
    /// EventSource that was not closed reconnects after the terminal event; a stream that ended at once would bring it
    /// back every second, forever.)
    /// </summary>
    public sealed record AllSent : WatchStart;

    /// <summary>The caller names an event the run has not sent: ids count up from 1 as events are sent.</summary>
    public sealed record NotSentYet : WatchStart;
}
