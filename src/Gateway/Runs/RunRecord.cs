using System.Text.Json.Serialization;

namespace Gateway.Runs;

internal static class RunStatus
{
    public const string Running = "running";
    public const string Completed = "completed";
    public const string Failed = "failed";
    public const string Cancelled = "cancelled";
    public const string Interrupted = "interrupted";
}

internal static class NodeStatus
{
    public const string Pending = "pending";
    public const string Running = "running";
    public const string Completed = "completed";
    public const string Failed = "failed";

    /// <summary>Not run because a node it depends on failed or was cancelled.</summary>
    public const string Skipped = "skipped";

    public const string Cancelled = "cancelled";
}

/// <summary>A run as <c>GET /api/runs/{runId}</c> returns it, and the data of the terminal event.</summary>
internal sealed record RunRecord
{
    [JsonPropertyName("runId")] public required string RunId { get; init; }
    [JsonPropertyName("flowId")] public string? FlowId { get; init; }
    [JsonPropertyName("status")] public required string Status { get; init; }
    [JsonPropertyName("createdAt")] public required DateTimeOffset CreatedAt { get; init; }
    [JsonPropertyName("completedAt")] public DateTimeOffset? CompletedAt { get; init; }

    /// <summary>Keyed by the ids in the output nodes' <c>from</c>; only nodes that completed are present.</summary>
    [JsonPropertyName("outputs")] public required IReadOnlyDictionary<string, string> Outputs { get; init; }

    [JsonPropertyName("nodes")] public required IReadOnlyDictionary<string, NodeRecord> Nodes { get; init; }
    [JsonPropertyName("usage")] public required TokenUsage Usage { get; init; }
    [JsonPropertyName("error")] public RunError? Error { get; init; }
}

internal sealed record NodeRecord
{
    [JsonPropertyName("status")] public required string Status { get; init; }
    [JsonPropertyName("output")] public string? Output { get; init; }

    /// <summary>The deployment's model name, for llm nodes.</summary>
    [JsonPropertyName("model")] public string? Model { get; init; }

    [JsonPropertyName("provider")] public string? Provider { get; init; }

    /// <summary>
    /// The upstream's own id for the last response of the deployment in <c>provider</c> (its <c>x-request-id</c>, or
    /// <c>request-id</c>): what that provider's support asks for. Null when it sent none.
    /// </summary>
    [JsonPropertyName("upstreamRequestId")] public string? UpstreamRequestId { get; init; }

    /// <summary>Upstream attempts across retries and fallbacks; 0 for nodes that call no model.</summary>
    [JsonPropertyName("attempts")] public int Attempts { get; init; }

    [JsonPropertyName("finishReason")] public string? FinishReason { get; init; }
    [JsonPropertyName("usage")] public TokenUsage? Usage { get; init; }
    [JsonPropertyName("startedAt")] public DateTimeOffset? StartedAt { get; init; }
    [JsonPropertyName("completedAt")] public DateTimeOffset? CompletedAt { get; init; }
    [JsonPropertyName("error")] public NodeError? Error { get; init; }
}

/// <summary>Tokens used, and what they cost in US dollars when the model alias has prices (Gateway:Models:{alias}:Pricing).</summary>
internal sealed record TokenUsage(
    [property: JsonPropertyName("inputTokens")] long InputTokens,
    [property: JsonPropertyName("outputTokens")] long OutputTokens,
    [property: JsonPropertyName("costUsd")] double? CostUsd = null)
{
    public static TokenUsage Zero { get; } = new(0, 0);

    public TokenUsage Add(TokenUsage? other) => other is null
        ? this
        : new(InputTokens + other.InputTokens, OutputTokens + other.OutputTokens,
            CostUsd is null && other.CostUsd is null ? null : (CostUsd ?? 0) + (other.CostUsd ?? 0));
}

/// <summary>Why a node failed. <see cref="Message"/> is safe to show a caller: it never holds a key.</summary>
internal sealed record NodeError(
    [property: JsonPropertyName("code")] string Code,
    [property: JsonPropertyName("message")] string Message);

/// <summary>Why a run did not complete, and which node, if one, caused it.</summary>
internal sealed record RunError(
    [property: JsonPropertyName("code")] string Code,
    [property: JsonPropertyName("message")] string Message,
    [property: JsonPropertyName("node")] string? Node);
