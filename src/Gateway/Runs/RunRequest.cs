using System.Text.Json;
using System.Text.Json.Serialization;
using Gateway.Flows;

namespace Gateway.Runs;

/// <summary>
/// The body of <c>POST /api/flows/{id}/run</c> and <c>POST /api/runs</c> as the OpenAPI document describes it.
/// <see cref="RunPlanner"/> reads the same fields from the raw JSON, so that it can report every problem at once
/// keyed by path (a typed binder would stop at the first).
/// </summary>
internal sealed record RunRequest
{
    /// <summary>The text for the flow's single input node.</summary>
    [JsonPropertyName("input")] public string? Input { get; init; }

    /// <summary>Texts by input node id, for flows with several input nodes.</summary>
    [JsonPropertyName("inputs")] public Dictionary<string, string>? Inputs { get; init; }

    /// <summary>Values for template names that are not node ids.</summary>
    [JsonPropertyName("variables")] public Dictionary<string, string>? Variables { get; init; }

    /// <summary>Per node, parameters to override; only those the node's component declares tweakable.</summary>
    [JsonPropertyName("tweaks")] public Dictionary<string, Dictionary<string, JsonElement>>? Tweaks { get; init; }

    /// <summary><c>POST /api/runs</c> only: the flow to run.</summary>
    [JsonPropertyName("flow")] public Flow? Flow { get; init; }
}
