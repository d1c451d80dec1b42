using System.Text.Json;
using System.Text.Json.Serialization;
using Gateway.Flows;

namespace Gateway.Runs;

/// <summary>
/// The body of <c>POST /api/flows/{id}/run</c> as the OpenAPI document describes it.
/// <see cref="RunPlanner"/> reads the same fields from the raw JSON, so that it can report every problem at once
/// keyed by path (a typed binder would stop at the first).
/// </summary>
internal record RunRequest
{
    /// <summary>The text for the flow's single input node.</summary>
    [JsonPropertyName("input")] public string? Input { get; init; }

    /// <summary>Texts by input node id, for flows with several input nodes.</summary>
    [JsonPropertyName("inputs")] public Dictionary<string, string>? Inputs { get; init; }

    /// <summary>Values for template names that are not node ids.</summary>
    [JsonPropertyName("variables")] public Dictionary<string, string>? Variables { get; init; }

    /// <summary>Per node, parameters to override; only those the node's component declares tweakable.</summary>
    [JsonPropertyName("tweaks")] public Dictionary<string, Dictionary<string, JsonElement>>? Tweaks { get; init; }
}

/// <summary>The body of <c>POST /api/runs</c>: a run request, and the flow it runs.</summary>
internal sealed record InlineRunRequest : RunRequest
{
    /// <summary>The flow to run, as <c>POST /api/flows</c> would save it.</summary>
    [JsonPropertyName("flow")] public required Flow Flow { get; init; }
}
