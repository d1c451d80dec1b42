using System.Diagnostics;

namespace Gateway.Providers;

/// <summary>
/// What an upstream request carries of the trace: <c>traceparent</c> and <c>tracestate</c>, which tie the provider's
/// side of a call to the gateway's trace. Not <c>baggage</c>, the third field of .NET's default propagator: that is
/// the caller's application data (a user id, a session), which a third-party model provider has no business
/// receiving; OpenTelemetry's guidance is not to send it past one's own services.
/// </summary>
internal sealed class TraceContextOnly : DistributedContextPropagator
{
    public static readonly TraceContextOnly Propagator = new();

    private const string TraceParent = "traceparent";
    private const string TraceState = "tracestate";

    public override IReadOnlyCollection<string> Fields { get; } = [TraceParent, TraceState];

    /// <summary>As the W3C propagator writes them (<see cref="Activity.Id"/> is the <c>traceparent</c> in the W3C format).</summary>
    public override void Inject(Activity? activity, object? carrier, PropagatorSetterCallback? setter)
    {
        if (activity is not { IdFormat: ActivityIdFormat.W3C, Id: { } id } || setter is null)
        {
            return;
        }

        setter(carrier, TraceParent, id);
        if (activity.TraceStateString is { Length: > 0 } state)
        {
            setter(carrier, TraceState, state);
        }
    }

    /// <summary>Used on outgoing requests only; what comes in is read by the host's own propagator.</summary>
    public override void ExtractTraceIdAndState(object? carrier, PropagatorGetterCallback? getter, out string? traceId, out string? traceState) =>
        Current.ExtractTraceIdAndState(carrier, getter, out traceId, out traceState);

    public override IEnumerable<KeyValuePair<string, string?>>? ExtractBaggage(object? carrier, PropagatorGetterCallback? getter) => null;
}
