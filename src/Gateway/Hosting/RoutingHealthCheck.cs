using Gateway.Providers;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Gateway.Hosting;

/// <summary>Ready once the validated configuration has produced a router with at least one model.</summary>
internal sealed class RoutingHealthCheck(ModelRouter router) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(router.Aliases.Count > 0
            ? HealthCheckResult.Healthy($"{router.Aliases.Count} model aliases")
            : HealthCheckResult.Unhealthy("No model aliases are configured."));
}
