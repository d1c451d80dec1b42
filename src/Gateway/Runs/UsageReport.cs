using System.Text.Json.Serialization;

namespace Gateway.Runs;

/// <summary>The answer of <c>GET /api/usage</c>: model calls of runs created in [from, to), summed per group.</summary>
internal sealed record UsageReport(
    [property: JsonPropertyName("from")] DateTimeOffset From,
    [property: JsonPropertyName("to")] DateTimeOffset To,
    [property: JsonPropertyName("groupBy")] string GroupBy,
    [property: JsonPropertyName("groups")] IReadOnlyList<UsageGroup> Groups);

/// <param name="Key">The model (as the deployment names it) or the API key's name.</param>
/// <param name="Runs">Runs with at least one model call in the group.</param>
/// <param name="Calls">llm nodes that reported usage.</param>
/// <param name="InputTokens">Summed input tokens.</param>
/// <param name="OutputTokens">Summed output tokens.</param>
/// <param name="CostUsd">Summed cost, for models with prices configured; null when none had any.</param>
internal sealed record UsageGroup(
    [property: JsonPropertyName("key")] string Key,
    [property: JsonPropertyName("runs")] int Runs,
    [property: JsonPropertyName("calls")] int Calls,
    [property: JsonPropertyName("inputTokens")] long InputTokens,
    [property: JsonPropertyName("outputTokens")] long OutputTokens,
    [property: JsonPropertyName("costUsd")] double? CostUsd);
