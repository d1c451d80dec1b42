using System.Text.Json.Serialization;

namespace Gateway.Runs;

/// <summary>
/// One event of a run, as DESIGN §5 names it. The engine yields these in order; ids are given when they are
/// logged (<see cref="RunEventEntry"/>), and <see cref="Name"/> becomes the SSE <c>event:</c> field.
/// </summary>
internal abstract record RunEvent
{
    /// <summary>The SSE event name; not part of the data (each override repeats the attribute, as attributes are not inherited).</summary>
    [JsonIgnore] public abstract string Name { get; }
}

internal sealed record RunStartedEvent(
    [property: JsonPropertyName("runId")] string RunId,
    [property: JsonPropertyName("flowId")] string? FlowId) : RunEvent
{
    [JsonIgnore] public override string Name => "run.started";
}

internal sealed record NodeStartedEvent(
    [property: JsonPropertyName("node")] string Node,
    [property: JsonPropertyName("type")] string Type) : RunEvent
{
    [JsonIgnore] public override string Name => "node.started";
}

internal sealed record TokenEvent(
    [property: JsonPropertyName("node")] string Node,
    [property: JsonPropertyName("text")] string Text) : RunEvent
{
    [JsonIgnore] public override string Name => "token";
}

/// <summary>
/// Before a retry or a fallback. Beyond DESIGN's members, the deployment the next attempt calls (<c>provider</c>,
/// <c>model</c>): the same one for a retry, the alias's next for a fallback, which <c>fallback</c> says; and the
/// failed deployment's upstream id for its last response (<c>upstreamRequestId</c>, its <c>x-request-id</c>), null
/// when it sent none.
/// </summary>
internal sealed record NodeRetryingEvent(
    [property: JsonPropertyName("node")] string Node,
    [property: JsonPropertyName("attempt")] int Attempt,
    [property: JsonPropertyName("delayMs")] long DelayMs,
    [property: JsonPropertyName("reason")] string Reason,
    [property: JsonPropertyName("provider")] string Provider,
    [property: JsonPropertyName("model")] string Model,
    [property: JsonPropertyName("fallback")] bool Fallback,
    [property: JsonPropertyName("upstreamRequestId")] string? UpstreamRequestId) : RunEvent
{
    [JsonIgnore] public override string Name => "node.retrying";
}

internal sealed record NodeCompletedEvent(
    [property: JsonPropertyName("node")] string Node,
    [property: JsonPropertyName("output")] string? Output,
    [property: JsonPropertyName("model")] string? Model,
    [property: JsonPropertyName("provider")] string? Provider,
    [property: JsonPropertyName("finishReason")] string? FinishReason,
    [property: JsonPropertyName("usage")] TokenUsage? Usage,
    [property: JsonPropertyName("durationMs")] long DurationMs) : RunEvent
{
    [JsonIgnore] public override string Name => "node.completed";
}

internal sealed record NodeFailedEvent(
    [property: JsonPropertyName("node")] string Node,
    [property: JsonPropertyName("error")] NodeError Error) : RunEvent
{
    [JsonIgnore] public override string Name => "node.failed";
}

/// <summary><c>run.completed</c>, <c>run.failed</c> or <c>run.cancelled</c>: the last event of every run; its data is the record.</summary>
internal sealed record RunFinishedEvent(RunRecord Run) : RunEvent
{
    /// <summary>Whether an event of that name ends a run's log.</summary>
    public static bool IsTerminal(string name) => name is "run.completed" or "run.failed" or "run.cancelled";

    [JsonIgnore]
    public override string Name => Run.Status switch
    {
        RunStatus.Completed => "run.completed",
        RunStatus.Cancelled => "run.cancelled",
        _ => "run.failed",
    };
}

/// <summary>An event as the run's log keeps it: its id (1, 2, 3, ... per run), its name and its JSON data.</summary>
internal sealed record RunEventEntry(long Id, string Name, string Data);
