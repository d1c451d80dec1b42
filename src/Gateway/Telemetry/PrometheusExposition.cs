using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Text;

namespace Gateway.Telemetry;

/// <summary>
/// Listens to the gateway's <see cref="Meter"/> and ASP.NET Core's hosting meter (HTTP requests by route and status,
/// which covers the requests that never reach a model) — this host's instances only, so test hosts in one process
/// stay apart — and renders what it aggregated as Prometheus' text exposition format 0.0.4 for <c>GET /metrics</c>. Listens from
/// start-up, not from the first scrape, so that nothing recorded before it is lost.
/// </summary>
internal sealed class PrometheusExposition : IHostedLifecycleService, IDisposable
{
    public const string ContentType = "text/plain; version=0.0.4; charset=utf-8";

    private readonly ConcurrentDictionary<Instrument, MetricFamily> _families = new();
    private readonly MeterListener _listener = new();
    private readonly Lock _scrape = new();

    public const string HostingMeterName = "Microsoft.AspNetCore.Hosting";

    public PrometheusExposition(GatewayMetrics metrics)
    {
        var scope = metrics.Meter.Scope;
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (ReferenceEquals(instrument.Meter.Scope, scope)
                && instrument.Meter.Name is GatewayMetrics.MeterName or HostingMeterName
                && MetricFamily.For(instrument) is { } family)
            {
                _families[instrument] = family;
                listener.EnableMeasurementEvents(instrument, family);
            }
        };
        _listener.SetMeasurementEventCallback<int>(static (_, value, tags, state) => ((MetricFamily)state!).Record(value, tags));
        _listener.SetMeasurementEventCallback<long>(static (_, value, tags, state) => ((MetricFamily)state!).Record(value, tags));
        _listener.SetMeasurementEventCallback<double>(static (_, value, tags, state) => ((MetricFamily)state!).Record(value, tags));
    }

    /// <summary>
    /// Listens from the first phase of start-up, before the services that already count things in theirs (runs that
    /// were cut off are ended, and counted, as the store is claimed).
    /// </summary>
    public Task StartingAsync(CancellationToken cancellationToken)
    {
        _listener.Start();
        return Task.CompletedTask;
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public string Scrape()
    {
        lock (_scrape)
        {
            foreach (var family in _families.Values)
            {
                family.ClearObserved();
            }

            _listener.RecordObservableInstruments();
            var output = new StringBuilder();
            foreach (var family in _families.Values.OrderBy(f => f.Name, StringComparer.Ordinal))
            {
                family.WriteTo(output);
            }

            return output.ToString();
        }
    }

    public void Dispose() => _listener.Dispose();
}
