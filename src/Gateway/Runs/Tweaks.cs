using System.Text.Json;
using System.Text.Json.Nodes;
using Gateway.Flows;

namespace Gateway.Runs;

/// <summary>
/// Applies a run's <c>tweaks</c> (<c>{"nodeId": {"parameter": value}}</c>) to a flow document before it is
/// validated. Only parameters the node's component marks tweakable may be set, each checked like the flow's own,
/// so a caller can change a temperature but never a reference, a URL, a key or a provider.
/// </summary>
internal static class Tweaks
{
    public static JsonElement Apply(JsonElement flow, JsonElement tweaks, IReadOnlySet<string> modelAliases, ValidationErrors errors)
    {
        if (tweaks.ValueKind != JsonValueKind.Object)
        {
            errors.Add("tweaks", "Must be an object of node ids to parameter values.");
            return flow;
        }

        if (JsonNode.Parse(flow.GetRawText()) is not JsonObject document || document["nodes"] is not JsonArray nodes)
        {
            return flow; // The flow's own validation reports what is wrong with it.
        }

        foreach (var tweak in tweaks.EnumerateObject())
        {
            // A null is a member not sent, in tweaks as everywhere in a run request (a generated client sends them).
            if (tweak.Value.ValueKind == JsonValueKind.Null)
            {
                continue;
            }

            var path = $"tweaks.{tweak.Name}";
            var node = nodes.OfType<JsonObject>().FirstOrDefault(n => n["id"] is JsonValue id && id.TryGetValue(out string? value) && value == tweak.Name);
            if (node is null)
            {
                errors.Add(path, $"No node has the id '{tweak.Name}'.");
            }
            else if (tweak.Value.ValueKind != JsonValueKind.Object)
            {
                errors.Add(path, "Must be an object of parameter values.");
            }
            else if (node["type"] is JsonValue type && type.TryGetValue(out string? typeName) && ComponentCatalog.Find(typeName) is { } component)
            {
                ApplyToNode(node, component, tweak.Value, path, modelAliases, errors);
            }
        }

        return JsonSerializer.SerializeToElement(document, FlowsJsonContext.Default.JsonObject);
    }

    private static void ApplyToNode(
        JsonObject node, Component component, JsonElement values, string path, IReadOnlySet<string> modelAliases, ValidationErrors errors)
    {
        var tweakable = component.Parameters.Where(p => p.Tweakable).Select(p => p.Name).ToArray();
        var allowed = tweakable.Length == 0 ? "none" : string.Join(", ", tweakable);
        foreach (var value in values.EnumerateObject())
        {
            if (value.Value.ValueKind == JsonValueKind.Null)
            {
                continue;
            }

            var valuePath = $"{path}.{value.Name}";
            var parameter = component.Find(value.Name);
            if (parameter is not { Tweakable: true })
            {
                var what = parameter is null ? $"Not a parameter of a '{component.Type}' node" : "Not tweakable";
                errors.Add(valuePath, $"{what}; a run may tweak: {allowed}.");
                continue;
            }

            var before = errors.Count;
            ParameterRules.Check(parameter, value.Value, valuePath, errors, modelAliases);
            if (errors.Count == before)
            {
                node[value.Name] = JsonNode.Parse(value.Value.GetRawText());
            }
        }
    }
}
