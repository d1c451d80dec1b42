using Gateway.Runs;
using Npgsql;

namespace Gateway.Storage;

/// <summary>
/// Makes sure no other live replica uses this one's configured <c>Gateway:Cluster:ReplicaId</c>: two would renew and
/// give up each other's leases (a restart gives up every lease of its id), so a copied id is refused at start-up.
/// The proof is a PostgreSQL advisory lock on the id, held on a connection of its own for the life of the process;
/// it goes with the connection when the process dies. A replica restarted at once may find its previous life's
/// connection not yet closed, hence a few seconds of retries before refusing.
/// </summary>
internal sealed partial class ReplicaIdLock(PostgresDatabase database, Replica replica, ILogger<ReplicaIdLock> logger)
    : IHostedLifecycleService, IAsyncDisposable
{
    /// <summary>Distinguishes replica-id locks from the schema's migration lock (a single 64-bit key).</summary>
    private const int LockClass = 0x67617465;

    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(5);

    private NpgsqlConnection? _holder;

    public async Task StartingAsync(CancellationToken cancellationToken)
    {
        if (!replica.IsNamed)
        {
            return;
        }

        var connection = await database.DataSource.OpenConnectionAsync(cancellationToken);
        var deadline = DateTime.UtcNow + Patience;
        while (!await TryLockAsync(connection, cancellationToken))
        {
            if (DateTime.UtcNow >= deadline)
            {
                await connection.DisposeAsync();
                throw new InvalidOperationException(
                    $"Another live replica uses Gateway:Cluster:ReplicaId '{replica.Id}'; each replica needs an id of its own.");
            }

            await Task.Delay(TimeSpan.FromMilliseconds(250), cancellationToken);
        }

        _holder = connection;
        LogHeld(logger, replica.Id);
    }

    private async Task<bool> TryLockAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("SELECT pg_try_advisory_lock(@class, hashtext(@id));", connection);
        command.Parameters.AddWithValue("class", LockClass);
        command.Parameters.AddWithValue("id", replica.Id);
        return await command.ExecuteScalarAsync(cancellationToken) is true;
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Closing the connection releases the lock.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_holder is not null)
        {
            await _holder.DisposeAsync();
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Replica id {ReplicaId} is this process's alone")]
    private static partial void LogHeld(ILogger logger, string replicaId);
}
