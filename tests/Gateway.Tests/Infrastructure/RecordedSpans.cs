using System.Collections.Concurrent;
using System.Diagnostics;

namespace Gateway.Tests.Infrastructure;

/// <summary>
/// Every span of the gateway's activity source that stops while this is alive, recorded and sampled in full. It hears
/// every test's spans, not only its own: filter by a trace id or a run id of the test's own.
/// </summary>
public sealed class RecordedSpans : IDisposable
{
    private readonly ConcurrentQueue<Activity> _spans = new();
    private readonly ActivityListener _listener;

    public RecordedSpans()
    {
        _listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == "Gateway",
            Sample = static (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = _spans.Enqueue,
        };
        ActivitySource.AddActivityListener(_listener);
    }

    public IReadOnlyList<Activity> Stopped => [.. _spans];

    public void Dispose() => _listener.Dispose();
}
