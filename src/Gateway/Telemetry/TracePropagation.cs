using System.Diagnostics;

namespace Gateway.Telemetry;

/// <summary>
/// Makes sure the request and the gateway's spans exist even when nothing exports them: <see cref="HttpClient"/>
/// sends <c>traceparent</c> upstream only when there is a current <see cref="Activity"/>. Sampled for propagation
/// only (no tags are collected) unless an exporter, a listener of its own, asks for more.
/// </summary>
internal sealed class TracePropagation : IHostedService, IDisposable
{
    private ActivityListener? _listener;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name is GatewayActivities.SourceName or "Microsoft.AspNetCore",
            Sample = static (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.PropagationData,
        };
        ActivitySource.AddActivityListener(_listener);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        Dispose();
        return Task.CompletedTask;
    }

    public void Dispose()
    {
        _listener?.Dispose();
        _listener = null;
    }
}
