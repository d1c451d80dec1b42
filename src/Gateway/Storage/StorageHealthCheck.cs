using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Gateway.Storage;

/// <summary>Ready when the database answers and its schema is the one this build expects.</summary>
internal sealed class StorageHealthCheck(SqliteDatabase database) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            var version = await database.ReadAsync(connection => SqliteSchema.ReadVersionAsync(connection, cancellationToken), cancellationToken);
            return version == SqliteSchema.Version
                ? HealthCheckResult.Healthy($"SQLite schema version {version}")
                : HealthCheckResult.Unhealthy($"SQLite schema version {version}, expected {SqliteSchema.Version}.");
        }
        catch (Exception exception) when (exception is Microsoft.Data.Sqlite.SqliteException or IOException or UnauthorizedAccessException)
        {
            return HealthCheckResult.Unhealthy("The store cannot be reached.", exception);
        }
    }
}
