using Gateway.Hosting;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace Gateway.Telemetry;

internal static class TelemetryServiceCollectionExtensions
{
    /// <summary>
    /// The meter and its Prometheus exposition, the spans' listener, optional OTLP export, and the console log
    /// format from <c>Gateway:Telemetry</c>.
    /// </summary>
    public static WebApplicationBuilder AddGatewayTelemetry(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<TelemetryOptions>().BindConfiguration(TelemetryOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<TelemetryOptions>, TelemetryOptionsValidator>();
        services.AddMetrics();
        services.AddSingleton<GatewayMetrics>();
        services.AddSingleton<CallTelemetry>();
        services.AddSingleton<PrometheusExposition>();
        services.AddHostedService(provider => provider.GetRequiredService<PrometheusExposition>());
        services.AddHostedService<TracePropagation>();
        // The host's own is registered first (TryAdd), and the last registration wins.
        services.AddSingleton<System.Diagnostics.DistributedContextPropagator>(
            new IncomingTraceContext(System.Diagnostics.DistributedContextPropagator.CreateDefaultPropagator()));
        services.AddSingleton<OtlpExport>();
        services.AddHostedService(provider => provider.GetRequiredService<OtlpExport>());

        // JSON lines carry their scopes, so every line logged under a run has its RunId (and a request's TraceId), the
        // retry, fallback and summary lines of its model calls included. The text format leaves them out unless an
        // operator asks (docs/OBSERVABILITY.md): formatting ASP.NET Core's scopes into every line cost ~1.8 KiB and ~4 %
        // more CPU per /v1 stream in the benchmark.
        if (builder.Configuration[$"{TelemetryOptions.Section}:LogFormat"] == TelemetryOptions.JsonFormat)
        {
            // With its time: a log collector that stamps lines as it reads them stamps a burst all alike (until
            // 2026-12-06 a JSON line had no time at all).
            builder.Logging.AddJsonConsole(json =>
            {
                json.IncludeScopes = true;
                json.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ";
                json.UseUtcTimestamp = true;
            });
        }

        return builder;
    }

    /// <summary><c>GET /metrics</c>: scraped by Prometheus, so it stays out of the OpenAPI document.</summary>
    public static IEndpointConventionBuilder MapMetrics(this IEndpointRouteBuilder endpoints) =>
        endpoints.MapGet("/metrics", Scrape)
            .WithName("Metrics")
            .ExcludeFromDescription();

    /// <summary>
    /// The metrics' series name every model and provider, so a key restricted to some models may not read them: it would
    /// learn of the aliases outside its list, which <c>/v1/models</c> and a completion keep from it, and of their traffic.
    /// A key whose list happens to name every alias is refused too: the list is what it is given, not what is configured.
    /// </summary>
    /// <remarks>
    /// A HEAD (a monitor's check that the endpoint is up) is answered without rendering the series, and so without a
    /// Content-Length: they change with every request, and a length rendered for a HEAD would not be the next GET's.
    /// </remarks>
    private static Results<ContentHttpResult, HeadAnswer, ProblemHttpResult> Scrape(
        PrometheusExposition exposition, Security.CallerIdentity caller, HttpRequest request) =>
        caller.IsModelRestricted
            ? TypedResults.Problem(
                "The metrics cover every model: a key restricted to some models may not read them. Give the scraper a key without a 'Models' list.",
                statusCode: StatusCodes.Status403Forbidden)
            : request.IsHead()
                ? new HeadAnswer(static response => response.ContentType = PrometheusExposition.ContentType)
                : TypedResults.Text(exposition.Scrape(), PrometheusExposition.ContentType);
}
