using Gateway.Hosting;
using Gateway.Runs;
using Npgsql;

namespace Gateway.Storage;

/// <summary>
/// Makes sure no other live replica uses this one's configured <c>Gateway:Cluster:ReplicaId</c>: two would renew and
/// give up each other's leases (a restart gives up every lease of its id), so a copied id is refused at start-up.
/// The proof is a PostgreSQL advisory lock on the id, held on a connection of its own for the life of the process;
/// it goes with the connection when the process dies. A replica restarted at once may find its previous life's
/// connection not yet closed, hence a few seconds of retries before refusing. The lock also goes when the server
/// drops the connection (a restart, a failover), so it is checked every third of a lease and taken again; should
/// another process have taken the id meanwhile, this one stops, as it would have been refused at start-up.
/// </summary>
internal sealed partial class ReplicaIdLock(
    PostgresDatabase database, Replica replica, IHostApplicationLifetime lifetime, TimeProvider timeProvider, ILogger<ReplicaIdLock> logger)
    : IHostedLifecycleService, IStartupPreparation, IAsyncDisposable
{
    /// <summary>Distinguishes replica-id locks from the schema's migration lock (a single 64-bit key).</summary>
    private const int LockClass = 0x67617465;

    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(5);

    private readonly CancellationTokenSource _stopping = new();
    private int _disposed;

    /// <summary>Every session this process opened to take the lock: a holder among them is this process's own, left over.</summary>
    private readonly HashSet<int> _ownSessions = [];
    private NpgsqlConnection? _holder;
    private Task _keeping = Task.CompletedTask;

    public Task StartingAsync(CancellationToken cancellationToken) => PrepareAsync(cancellationToken);

    /// <summary>Takes the lock on this replica's id, once, before the host starts.</summary>
    public async Task PrepareAsync(CancellationToken cancellationToken)
    {
        if (!replica.IsNamed || _holder is not null)
        {
            return;
        }

        _holder = await TakeAsync(cancellationToken) ?? throw new StartupRefusedException(
            $"Another live replica uses Gateway:Cluster:ReplicaId '{replica.Id}'; each replica needs an id of its own.");
        LogHeld(logger, replica.Id);
    }

    /// <summary>
    /// Takes the lock on a connection of its own, trying for <see cref="Patience"/>: a previous life's session may
    /// not have closed yet. A session of this process that still holds it (the network failed, not the server, and
    /// its close never arrived) is ended, and the wait starts over.
    /// </summary>
    /// <returns>The connection that holds the lock; null when another process holds it.</returns>
    private async Task<NpgsqlConnection?> TakeAsync(CancellationToken cancellationToken)
    {
        var connection = await OpenAsync(cancellationToken);
        try
        {
            var deadline = timeProvider.GetUtcNow() + Patience;
            while (!await TryLockAsync(connection, cancellationToken))
            {
                if (await HolderAsync(connection, cancellationToken) is { } holder && _ownSessions.Contains(holder))
                {
                    await EndSessionAsync(connection, holder, cancellationToken);
                    deadline = timeProvider.GetUtcNow() + Patience;
                }
                else if (timeProvider.GetUtcNow() >= deadline)
                {
                    await connection.DisposeAsync();
                    return null;
                }

                await Task.Delay(TimeSpan.FromMilliseconds(250), timeProvider, cancellationToken);
            }

            return connection;
        }
        catch
        {
            // Unpooled: disposing ends the session, and a lock it may have been granted without hearing so.
            await connection.DisposeAsync();
            throw;
        }
    }

    private async Task<NpgsqlConnection> OpenAsync(CancellationToken cancellationToken)
    {
        var connection = await database.OpenDedicatedConnectionAsync(cancellationToken);
        _ownSessions.Add(connection.ProcessID);
        return connection;
    }

    private async Task<bool> TryLockAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("SELECT pg_try_advisory_lock(@class, hashtext(@id));", connection);
        command.Parameters.AddWithValue("class", LockClass);
        command.Parameters.AddWithValue("id", replica.Id);
        return await command.ExecuteScalarAsync(cancellationToken) is true;
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken)
    {
        if (_holder is not null)
        {
            _keeping = KeepAsync(_stopping.Token);
        }

        return Task.CompletedTask;
    }

    public async Task StoppingAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync();
        await _keeping;
    }

    private async Task KeepAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(replica.LeaseDuration / 3, timeProvider);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                await CheckAsync(stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // The process is stopping; the lock goes with the connection at disposal.
        }
    }

    /// <summary>Proves the lock still held (its connection answers) or takes it again on a new connection.</summary>
    private async Task CheckAsync(CancellationToken cancellationToken)
    {
        try
        {
            await using var ping = new NpgsqlCommand("SELECT 1;", _holder);
            await ping.ExecuteScalarAsync(cancellationToken);
            return;
        }
        catch (Exception exception) when (exception is NpgsqlException or InvalidOperationException)
        {
            LogLost(logger, exception, replica.Id);
        }

        if (_holder is { } lost)
        {
            _holder = null;
            await lost.DisposeAsync();
        }

        try
        {
            _holder = await TakeAsync(cancellationToken);
            if (_holder is null)
            {
                LogTaken(logger, replica.Id);
                // A failing exit, so that an orchestrator shows it and its restart is refused at start-up, naming the id.
                Environment.ExitCode = 1;
                lifetime.StopApplication();
                return;
            }

            LogHeld(logger, replica.Id);
        }
        catch (Exception exception) when (exception is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            // The server is still away: the next tick tries again.
            LogLost(logger, exception, replica.Id);
        }
    }

    /// <summary>The server process of the session that holds this id's lock; null when none does.</summary>
    private async Task<int?> HolderAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(
            "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND database = (SELECT oid FROM pg_database WHERE datname = current_database()) " +
            "AND classid = @class::oid AND objid = hashtext(@id)::oid AND objsubid = 2 AND granted;",
            connection);
        command.Parameters.AddWithValue("class", LockClass);
        command.Parameters.AddWithValue("id", replica.Id);
        return await command.ExecuteScalarAsync(cancellationToken) is int pid ? pid : null;
    }

    private static async Task EndSessionAsync(NpgsqlConnection connection, int session, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("SELECT pg_terminate_backend(@pid);", connection);
        command.Parameters.AddWithValue("pid", session);
        await command.ExecuteScalarAsync(cancellationToken);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Closing the connection releases the lock.</summary>
    public async ValueTask DisposeAsync()
    {
        // Once: the container disposes every registration that hands this instance out (the preparation, the hosted service).
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        // Disposed without a stop when start-up failed after this service started: the keeper stops here then.
        await _stopping.CancelAsync();
        await _keeping;
        _stopping.Dispose();
        if (_holder is not null)
        {
            await _holder.DisposeAsync();
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Replica id {ReplicaId} is this process's alone")]
    private static partial void LogHeld(ILogger logger, string replicaId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The lock on replica id {ReplicaId} was lost with its connection; taking it again")]
    private static partial void LogLost(ILogger logger, Exception exception, string replicaId);

    [LoggerMessage(Level = LogLevel.Critical, Message = "Another process took replica id {ReplicaId} while this one's lock was lost; stopping, as two processes with one id give up each other's runs")]
    private static partial void LogTaken(ILogger logger, string replicaId);
}
