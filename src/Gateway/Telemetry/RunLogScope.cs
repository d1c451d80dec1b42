using System.Collections;

namespace Gateway.Telemetry;

/// <summary>
/// The scope that puts <c>RunId</c> (and <c>FlowId</c>) on every log line written while a run executes, including
/// those of the router and resilience code beneath it: <c>using var scope = RunLogScope.Begin(logger, runId, flowId);</c>.
/// </summary>
internal sealed class RunLogScope(string runId, string flowId) : IReadOnlyList<KeyValuePair<string, object?>>
{
    public static IDisposable? Begin(ILogger logger, string runId, string flowId) => logger.BeginScope(new RunLogScope(runId, flowId));

    public int Count => 2;

    public KeyValuePair<string, object?> this[int index] => index switch
    {
        0 => new("RunId", runId),
        1 => new("FlowId", flowId),
        _ => throw new ArgumentOutOfRangeException(nameof(index)),
    };

    public IEnumerator<KeyValuePair<string, object?>> GetEnumerator()
    {
        yield return this[0];
        yield return this[1];
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    public override string ToString() => $"RunId:{runId} FlowId:{flowId}";
}
