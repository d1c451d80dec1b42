using Microsoft.Data.Sqlite;

namespace Gateway.Storage;

/// <summary>
/// Once the gateway serves, reads the whole SQLite file for damage (<see cref="SqliteDatabase.CheckForDamageAsync"/>),
/// off the start-up path: the check costs a read of every page, which a large file should not add to start-up. Damage
/// found makes <c>/readyz</c> not ready and refuses writes, as damage met by a run does.
/// </summary>
internal sealed partial class SqliteDamageCheck(SqliteDatabase database, IHostApplicationLifetime lifetime, ILogger<SqliteDamageCheck> logger)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!database.IsFile)
        {
            return;
        }

        try
        {
            using (var started = CancellationTokenSource.CreateLinkedTokenSource(lifetime.ApplicationStarted, stoppingToken))
            {
                await Task.Delay(Timeout.Infinite, started.Token).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }

            stoppingToken.ThrowIfCancellationRequested();
            if (await database.CheckForDamageAsync(stoppingToken) is { } damage)
            {
                LogDamaged(logger, database.DataSource, damage);
            }
        }
        catch (SqliteException) when (database.Damage is { } damage)
        {
            LogDamaged(logger, database.DataSource, damage);
        }
        catch (SqliteException) when (stoppingToken.IsCancellationRequested)
        {
            // Interrupted by the stop (SQLITE_INTERRUPT): the next start checks again.
        }
        catch (Exception exception) when (exception is SqliteException or IOException or UnauthorizedAccessException or StoreFileGoneException)
        {
            // What reads meet too (a lock, the file gone), and say when they meet it: the check is not what serves them.
            LogCheckFailed(logger, database.DataSource, exception.Message);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping before the check was done: the next start checks again.
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "SQLite '{DataSource}' is damaged ({Damage}): restore it from a backup, then restart the gateway. Until then it is not ready, and writes are refused")]
    private static partial void LogDamaged(ILogger logger, string dataSource, string damage);

    [LoggerMessage(Level = LogLevel.Warning, Message = "SQLite '{DataSource}' could not be checked for damage: {Reason}")]
    private static partial void LogCheckFailed(ILogger logger, string dataSource, string reason);
}
