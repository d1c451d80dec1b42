namespace Gateway.Storage;

/// <summary>
/// Creates or migrates the schema in <see cref="IHostedLifecycleService.StartingAsync"/>, which every hosted
/// service runs before any of them starts (the web server included): no request ever meets a missing table.
/// </summary>
internal sealed partial class StorageInitializer(SqliteDatabase database, ILogger<StorageInitializer> logger) : IHostedLifecycleService
{
    public async Task StartingAsync(CancellationToken cancellationToken)
    {
        await SqliteSchema.MigrateAsync(database, cancellationToken);
        LogReady(logger, database.DataSource, SqliteSchema.Version);
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(Level = LogLevel.Information, Message = "Store ready: SQLite '{DataSource}', schema version {Version}")]
    private static partial void LogReady(ILogger logger, string dataSource, int version);
}
