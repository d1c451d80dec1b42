using System.Data.Common;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Gateway.Storage;

/// <summary>Ready when the database answers and its schema is the one this build expects.</summary>
internal sealed class StorageHealthCheck(IStoreSchema schema) : IHealthCheck
{
    /// <summary>
    /// How long the check may take: a database that does not answer (stalled, its network black-holed) made the first
    /// <c>/readyz</c> wait out Npgsql's 30 s command timeout and more, where a probe wants an answer.
    /// </summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(5);

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            var version = await schema.ReadVersionAsync(cancellationToken);
            if (version != schema.Version)
            {
                return HealthCheckResult.Unhealthy($"{schema.Description} schema version {version}, expected {schema.Version}.");
            }

            // A store that answers reads but refuses writes fails every run: not ready either.
            return await schema.WriteRefusalAsync(cancellationToken) is { } refusal
                ? HealthCheckResult.Unhealthy(refusal)
                : HealthCheckResult.Healthy($"{schema.Description} schema version {version}");
        }
        catch (Exception exception) when (exception is DbException or IOException or UnauthorizedAccessException or TimeoutException)
        {
            // The reason, not the exception: the health service logs an exception's stack trace at every probe.
            return HealthCheckResult.Unhealthy($"The store {schema.Description} cannot be reached: {exception.Message}");
        }
    }
}
