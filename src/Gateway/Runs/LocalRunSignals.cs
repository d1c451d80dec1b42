namespace Gateway.Runs;

/// <summary>The signals of a replica that shares its store with no other (SQLite): whatever it sends, it receives.</summary>
internal sealed class LocalRunSignals : IRunSignals
{
    public event Action<string>? CancelRequested;

    public event Action<string>? WatchedElsewhere;

    /// <summary>Every run of this store executes here, and is watched through its live log rather than followed.</summary>
    public IDisposable SubscribeToEvents(string runId, Action wake) => NoSubscription.Instance;

    public Task SendCancelAsync(string runId, CancellationToken cancellationToken)
    {
        CancelRequested?.Invoke(runId);
        return Task.CompletedTask;
    }

    public Task SendWatchedAsync(string runId, CancellationToken cancellationToken)
    {
        WatchedElsewhere?.Invoke(runId);
        return Task.CompletedTask;
    }

    private sealed class NoSubscription : IDisposable
    {
        public static readonly NoSubscription Instance = new();

        public void Dispose()
        {
        }
    }
}
