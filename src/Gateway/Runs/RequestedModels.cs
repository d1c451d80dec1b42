using System.Text.Json;

namespace Gateway.Runs;

/// <summary>
/// The model aliases a run request names: its flow's llm nodes and its tweaks. Read from the request as sent, before
/// it is validated, so that a key restricted to some models is refused (403) before the validator tells it which
/// aliases exist, as <c>/v1</c> refuses it before looking the model up.
/// </summary>
internal static class RequestedModels
{
    public static IEnumerable<string> Of(JsonElement request, JsonElement? savedFlow)
    {
        if (request.ValueKind != JsonValueKind.Object)
        {
            yield break;
        }

        // A node's model as tweaked, when a tweak sets one: a saved flow's lorem tweaked to echo asks for echo.
        var tweaked = new Dictionary<string, string>(StringComparer.Ordinal);
        if (request.TryGetProperty("tweaks", out var tweaks) && tweaks.ValueKind == JsonValueKind.Object)
        {
            foreach (var tweak in tweaks.EnumerateObject())
            {
                if (ModelOf(tweak.Value) is { } model)
                {
                    tweaked[tweak.Name] = model;
                    yield return model;
                }
            }
        }

        var flow = savedFlow ?? (request.TryGetProperty("flow", out var inline) ? inline : default(JsonElement?));
        if (flow is { ValueKind: JsonValueKind.Object } document
            && document.TryGetProperty("nodes", out var nodes) && nodes.ValueKind == JsonValueKind.Array)
        {
            foreach (var node in nodes.EnumerateArray())
            {
                var id = node.ValueKind == JsonValueKind.Object && node.TryGetProperty("id", out var nodeId) && nodeId.ValueKind == JsonValueKind.String
                    ? nodeId.GetString()
                    : null;
                // Tweaks.Apply tweaks the first node with an id; a second one (a duplicate, refused later) keeps its model.
                if ((id is null || !tweaked.Remove(id)) && ModelOf(node) is { } model)
                {
                    yield return model;
                }
            }
        }
    }

    private static string? ModelOf(JsonElement element) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty("model", out var model) && model.ValueKind == JsonValueKind.String
            ? model.GetString()
            : null;
}
