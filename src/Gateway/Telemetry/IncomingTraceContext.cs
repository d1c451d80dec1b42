using System.Diagnostics;

namespace Gateway.Telemetry;

/// <summary>
/// How ASP.NET Core reads a caller's trace: as .NET's default propagator does, but only ever as a W3C
/// <c>traceparent</c>. What does not parse as one is no trace (the request starts its own), except a later version's
/// header, which is read as version 00, as the W3C Trace Context (§3.2.4) asks of a version-00 reader.
/// </summary>
/// <remarks>
/// Left to the default, a header it cannot parse as W3C (<c>01-{trace}-{span}-01-more</c>, or a legacy
/// <c>Request-Id</c>) became the parent of a hierarchical-format span: every such request's <c>x-request-id</c> was
/// all zeros, the caller's text went verbatim into every JSON log line's <c>TraceId</c>, and the upstream got no
/// <c>traceparent</c> at all.
/// </remarks>
internal sealed class IncomingTraceContext(DistributedContextPropagator inner) : DistributedContextPropagator
{
    /// <summary>The length of a version-00 <c>traceparent</c>: <c>00-{32 hex}-{16 hex}-{2 hex}</c>.</summary>
    private const int Version00Length = 55;

    public override IReadOnlyCollection<string> Fields => inner.Fields;

    public override void ExtractTraceIdAndState(object? carrier, PropagatorGetterCallback? getter, out string? traceId, out string? traceState)
    {
        inner.ExtractTraceIdAndState(carrier, getter, out traceId, out traceState);
        if (traceId is null || ActivityContext.TryParse(traceId, traceState, out _))
        {
            return;
        }

        traceId = AsVersion00(traceId);
        if (traceId is null)
        {
            traceState = null;
        }
    }

    public override IEnumerable<KeyValuePair<string, string?>>? ExtractBaggage(object? carrier, PropagatorGetterCallback? getter) =>
        inner.ExtractBaggage(carrier, getter);

    public override void Inject(Activity? activity, object? carrier, PropagatorSetterCallback? setter) => inner.Inject(activity, carrier, setter);

    /// <summary>
    /// A later version's header (two hex digits other than <c>00</c> and <c>ff</c>, then version 00's fields, then
    /// nothing or a dash and more) as version 00; null for anything else.
    /// </summary>
    internal static string? AsVersion00(string traceParent)
    {
        if (traceParent.Length < Version00Length
            || (traceParent.Length > Version00Length && traceParent[Version00Length] != '-')
            || traceParent.StartsWith("00", StringComparison.Ordinal) || traceParent.StartsWith("ff", StringComparison.Ordinal)
            || !char.IsAsciiHexDigitLower(traceParent[0]) || !char.IsAsciiHexDigitLower(traceParent[1])
            || !char.IsAsciiHexDigitLower(traceParent[Version00Length - 2]) || !char.IsAsciiHexDigitLower(traceParent[Version00Length - 1]))
        {
            return null;
        }

        // Of a later version's flags, only the sampled bit (the lowest, odd digits) is one version 00 knows.
        var sampled = "13579bdf".Contains(traceParent[Version00Length - 1], StringComparison.Ordinal);
        var asVersion00 = string.Concat("00", traceParent.AsSpan(2, Version00Length - 4), sampled ? "01" : "00");
        return ActivityContext.TryParse(asVersion00, null, out _) ? asVersion00 : null;
    }
}
