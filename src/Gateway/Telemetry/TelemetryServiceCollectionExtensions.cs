using Microsoft.Extensions.Logging.Console;
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
        services.AddSingleton<OtlpExport>();
        services.AddHostedService(provider => provider.GetRequiredService<OtlpExport>());

        // With scopes in both formats, every line logged under a run carries its RunId (and a request's TraceId): the
        // retry, fallback and summary lines of a run's model calls are written by code that knows nothing of runs.
        if (builder.Configuration[$"{TelemetryOptions.Section}:LogFormat"] == TelemetryOptions.JsonFormat)
        {
            builder.Logging.AddJsonConsole(json => json.IncludeScopes = true);
        }
        else if (builder.Configuration["Logging:Console:FormatterOptions:IncludeScopes"] is null)
        {
            // The simple formatter with scopes, unless an operator's Logging:Console settings say otherwise (another
            // formatter, scopes off). Named: without a name the console logger takes its options' deprecated, scope-less ones.
            builder.Services.Configure<ConsoleLoggerOptions>(console => console.FormatterName ??= ConsoleFormatterNames.Simple);
            builder.Services.Configure<SimpleConsoleFormatterOptions>(text => text.IncludeScopes = true);
        }

        return builder;
    }

    /// <summary><c>GET /metrics</c>: scraped by Prometheus, so it stays out of the OpenAPI document.</summary>
    public static IEndpointConventionBuilder MapMetrics(this IEndpointRouteBuilder endpoints) =>
        endpoints.MapGet("/metrics", (PrometheusExposition exposition) =>
                TypedResults.Text(exposition.Scrape(), PrometheusExposition.ContentType))
            .WithName("Metrics")
            .ExcludeFromDescription();
}
