using System.Data.Common;
using Gateway.Hosting;

namespace Gateway.Storage;

/// <summary>
/// Creates or migrates the schema in <see cref="IHostedLifecycleService.StartingAsync"/>, which every hosted
/// service runs before any of them starts (the web server included): no request ever meets a missing table. The
/// gateway's entry point prepares the store before it starts the host (<see cref="PrepareAsync"/>), so that a store
/// refused (unreachable, or a SQLite file another process holds) is said once, plainly, not also logged by the host.
/// </summary>
internal sealed partial class StorageInitializer(IStoreSchema schema, ILogger<StorageInitializer> logger) : IHostedLifecycleService
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
            throw new StartupRefusedException($"The store {schema.Description} cannot be reached or migrated: {exception.Message}", exception);
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
