using Microsoft.AspNetCore.Diagnostics.HealthChecks;

namespace Gateway.Hosting;

internal static class HealthEndpoints
{
    public const string ReadyTag = "ready";

    public static void MapHealthEndpoints(this IEndpointRouteBuilder endpoints)
    {
        // Probes carry no key and must never be throttled. Liveness runs no checks: a process that can answer is alive.
        endpoints.MapHealthChecks("/healthz", new HealthCheckOptions { Predicate = _ => false })
            .WithName("Health").WithTags("Operations").AllowAnonymous().DisableRateLimiting();
        endpoints.MapHealthChecks("/readyz", new HealthCheckOptions { Predicate = check => check.Tags.Contains(ReadyTag) })
            .WithName("Ready").WithTags("Operations").AllowAnonymous().DisableRateLimiting();
    }
}
