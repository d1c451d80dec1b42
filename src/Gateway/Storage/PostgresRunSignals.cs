using Gateway.Runs;
using Npgsql;

namespace Gateway.Storage;

/// <summary>
/// Run signals between replicas over PostgreSQL's LISTEN/NOTIFY, on one connection held for the purpose. The store
/// raises <see cref="PostgresChannels.RunEvents"/> (through <see cref="PostgresEventNotices"/>) once events commit; cancels and "watched" notes go on
/// <see cref="PostgresChannels.RunControl"/>. When the listening connection drops it is opened again, and every
/// follower is woken to read the store, so whatever was notified meanwhile is caught up at once.
/// </summary>
internal sealed partial class PostgresRunSignals(PostgresDatabase database, ILogger<PostgresRunSignals> logger) : BackgroundService, IRunSignals
{
    private const string CancelPrefix = "cancel:";
    private const string WatchedPrefix = "watched:";
    private static readonly TimeSpan FirstReconnectDelay = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan MaxReconnectDelay = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan PingAfter = TimeSpan.FromSeconds(30);

    private readonly Lock _gate = new();
    private readonly Dictionary<string, List<Action>> _followers = new(StringComparer.Ordinal);

    public event Action<string>? CancelRequested;

    public event Action<string>? WatchedElsewhere;

    public IDisposable SubscribeToEvents(string runId, Action wake)
    {
        lock (_gate)
        {
            if (!_followers.TryGetValue(runId, out var wakes))
            {
                _followers[runId] = wakes = [];
            }

            wakes.Add(wake);
        }

        return new Subscription(this, runId, wake);
    }

    public Task SendCancelAsync(string runId, CancellationToken cancellationToken) => NotifyAsync(CancelPrefix + runId, cancellationToken);

    public Task SendWatchedAsync(string runId, CancellationToken cancellationToken) => NotifyAsync(WatchedPrefix + runId, cancellationToken);

    /// <summary>
    /// Commits without waiting for the disk, as event notices do (<see cref="PostgresEventNotices"/>): a notifying commit
    /// holds PostgreSQL's one notify lock while it waits, and every follower announces itself every third of the grace.
    /// A signal lost in a crash is made good by the store (cancels) or the next announcement (watched).
    /// </summary>
    private async Task NotifyAsync(string payload, CancellationToken cancellationToken)
    {
        await using var command = database.DataSource.Command(
            "SELECT pg_notify(@channel, @payload) FROM set_config('synchronous_commit', 'off', true);",
            ("channel", PostgresChannels.RunControl), ("payload", payload));
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var delay = FirstReconnectDelay;
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                try
                {
                    await ListenAsync(() => delay = FirstReconnectDelay, stoppingToken);
                }
                catch (Exception exception) when (!stoppingToken.IsCancellationRequested)
                {
                    LogListenFailed(logger, exception, database.Description, delay.TotalSeconds);
                    await Task.Delay(delay, stoppingToken);
                    delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, MaxReconnectDelay.Ticks));
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping; quietly, as RunLeases does, for a start-up that was refused.
        }
    }

    /// <param name="listening">Called once the connection listens.</param>
    /// <param name="stoppingToken">The host's.</param>
    private async Task ListenAsync(Action listening, CancellationToken stoppingToken)
    {
        await using var connection = await database.DataSource.OpenConnectionAsync(stoppingToken);
        connection.Notification += (_, notification) => Dispatch(notification.Channel, notification.Payload);
        await using (var listen = new NpgsqlCommand($"LISTEN {PostgresChannels.RunEvents}; LISTEN {PostgresChannels.RunControl};", connection))
        {
            await listen.ExecuteNonQueryAsync(stoppingToken);
        }

        // Anything notified while no connection listened is in the store: every follower reads it now.
        listening();
        WakeAllFollowers();
        while (true)
        {
            // A link that died silently (a NAT or proxy dropping an idle connection) never wakes a wait: a quiet
            // spell is answered with a ping, which fails on a dead link, and the loop above listens again.
            if (!await connection.WaitAsync(PingAfter, stoppingToken))
            {
                await using var ping = new NpgsqlCommand("SELECT 1;", connection);
                await ping.ExecuteNonQueryAsync(stoppingToken);
            }
        }
    }

    private void Dispatch(string channel, string payload)
    {
        if (channel == PostgresChannels.RunEvents)
        {
            var separator = payload.LastIndexOf(':');
            WakeFollowers(separator > 0 ? payload[..separator] : payload);
        }
        else if (payload.StartsWith(CancelPrefix, StringComparison.Ordinal))
        {
            CancelRequested?.Invoke(payload[CancelPrefix.Length..]);
        }
        else if (payload.StartsWith(WatchedPrefix, StringComparison.Ordinal))
        {
            WatchedElsewhere?.Invoke(payload[WatchedPrefix.Length..]);
        }
    }

    private void WakeFollowers(string runId)
    {
        Action[] wakes;
        lock (_gate)
        {
            if (!_followers.TryGetValue(runId, out var list))
            {
                return;
            }

            wakes = [.. list];
        }

        foreach (var wake in wakes)
        {
            wake();
        }
    }

    private void WakeAllFollowers()
    {
        Action[] wakes;
        lock (_gate)
        {
            wakes = [.. _followers.Values.SelectMany(list => list)];
        }

        foreach (var wake in wakes)
        {
            wake();
        }
    }

    private void Unsubscribe(string runId, Action wake)
    {
        lock (_gate)
        {
            if (_followers.TryGetValue(runId, out var wakes) && wakes.Remove(wake) && wakes.Count == 0)
            {
                _followers.Remove(runId);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Listening for run signals on PostgreSQL {Store} failed; trying again in {Seconds} s (followers poll meanwhile)")]
    private static partial void LogListenFailed(ILogger logger, Exception exception, string store, double seconds);

    private sealed class Subscription(PostgresRunSignals signals, string runId, Action wake) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                signals.Unsubscribe(runId, wake);
            }
        }
    }
}
