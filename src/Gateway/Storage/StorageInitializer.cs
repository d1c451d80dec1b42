using System.Data.Common;
using Gateway.Hosting;

namespace Gateway.Storage;

/// <summary>
/// Creates or migrates the schema before the host starts (<see cref="IStartupPreparation"/>), or at the latest in
/// <see cref="IHostedLifecycleService.StartingAsync"/>, which every hosted service runs before any of them starts (the
/// web server included): no request ever meets a missing table.
/// </summary>
internal sealed partial class StorageInitializer(IStoreSchema schema, ILogger<StorageInitializer> logger) : IHostedLifecycleService, IStartupPreparation
{
    private bool _prepared;

    public Task StartingAsync(CancellationToken cancellationToken) => PrepareAsync(cancellationToken);

    /// <summary>Creates or migrates the schema, once.</summary>
    public async Task PrepareAsync(CancellationToken cancellationToken)
    {
        if (_prepared)
        {
            return;
        }

        try
        {
            await schema.MigrateAsync(cancellationToken);
        }
        catch (Exception exception) when (exception is DbException or TimeoutException)
        {
            // An operator who finds the file writable looks no further: SQLite also writes beside it.
            var readOnly = exception is Microsoft.Data.Sqlite.SqliteException { SqliteErrorCode: StoreErrors.SqliteReadOnly }
                ? " The file and its folder must both be writable by the gateway: SQLite keeps its write-ahead log (-wal, -shm) beside the file."
                : "";
            throw new StartupRefusedException($"The store {schema.Description} cannot be reached or migrated: {exception.Message}{readOnly}", exception);
        }

        _prepared = true;
        LogReady(logger, schema.Description, schema.Version);
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(Level = LogLevel.Information, Message = "Store ready: {Store}, schema version {Version}")]
    private static partial void LogReady(ILogger logger, string store, int version);
}
