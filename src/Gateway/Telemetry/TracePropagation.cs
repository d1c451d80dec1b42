using System.Diagnostics;

namespace Gateway.Telemetry;

/// <summary>
/// Makes sure the request's span exists even when nothing exports it: <see cref="HttpClient"/> sends
/// <c>traceparent</c> upstream only when there is a current <see cref="Activity"/>, and ASP.NET Core's request span
/// (continuing the caller's trace) is enough for that. The gateway's own spans are left to exporters and other
/// listeners: sampled here they would only cost a few objects per request (and change nothing upstream, where
/// <see cref="HttpClient"/>'s own child span is what the header names).
/// </summary>
internal sealed class TracePropagation : IHostedService, IDisposable
{
    private ActivityListener? _listener;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == "Microsoft.AspNetCore",
            // A caller's trace that it records stays recorded on the way upstream (its sampled flag is what a
            // parent-based sampler there follows): only then is the span recorded here, with or without an exporter.
            Sample = static (ref ActivityCreationOptions<ActivityContext> options) =>
                (options.Parent.TraceFlags & ActivityTraceFlags.Recorded) != 0
                    ? ActivitySamplingResult.AllDataAndRecorded
                    : ActivitySamplingResult.PropagationData,
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
