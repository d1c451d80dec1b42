using Microsoft.Extensions.Options;
using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Gateway.Telemetry;

/// <summary>
/// Exports the gateway's meter and spans (and ASP.NET Core's, described by its instrumentation, and HttpClient's spans) over OTLP while the host runs,
/// when <c>Gateway:Telemetry:OtlpEndpoint</c> is set. The providers are built by hand, as the hosting extensions
/// package is not obtainable here, and flushed and disposed at shutdown.
/// </summary>
internal sealed class OtlpExport(IOptions<TelemetryOptions> options) : IHostedLifecycleService, IDisposable
{
    private MeterProvider? _meters;
    private TracerProvider? _tracer;

    /// <summary>True while an exporter runs.</summary>
    public bool IsExporting => _meters is not null;

    /// <summary>Exports from the first phase of start-up, as <see cref="PrometheusExposition"/> listens.</summary>
    public Task StartingAsync(CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(options.Value.OtlpEndpoint))
        {
            return Task.CompletedTask;
        }

        var endpoint = new Uri(options.Value.OtlpEndpoint);
        void Configure(OtlpExporterOptions exporter) => exporter.Endpoint = endpoint;
        _meters = Sdk.CreateMeterProviderBuilder()
            .ConfigureResource(Describe)
            .AddMeter(GatewayMetrics.MeterName, PrometheusExposition.HostingMeterName)
            .AddOtlpExporter(Configure)
            .Build();
        _tracer = Sdk.CreateTracerProviderBuilder()
            .ConfigureResource(Describe)
            .AddSource(GatewayActivities.SourceName, "System.Net.Http")
            // ASP.NET Core's request spans, with the method, route and status the bare ones lack (and Error on a 5xx).
            .AddAspNetCoreInstrumentation()
            .AddOtlpExporter(Configure)
            .Build();
        return Task.CompletedTask;
    }

    /// <summary>What the exported spans and metrics say they come from (the traces' resource).</summary>
    internal Resource? Resource => _tracer?.GetResource();

    /// <summary>
    /// Names the service <c>gateway</c> (it was <c>unknown_service:dotnet</c>), unless <c>OTEL_SERVICE_NAME</c> names it,
    /// as OpenTelemetry's other variables (<c>OTEL_RESOURCE_ATTRIBUTES</c>) add to it.
    /// </summary>
    private static void Describe(ResourceBuilder resource) =>
        resource.AddService(Environment.GetEnvironmentVariable("OTEL_SERVICE_NAME") is { Length: > 0 } name ? name : "gateway");

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken)
    {
        Dispose();
        return Task.CompletedTask;
    }

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public void Dispose()
    {
        _meters?.Dispose();
        _tracer?.Dispose();
        _meters = null;
        _tracer = null;
    }
}
