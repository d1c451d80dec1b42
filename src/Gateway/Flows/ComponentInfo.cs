using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace Gateway.Flows;

/// <summary>One entry of <c>GET /api/components</c>: a node type, its parameters, and the JSON schema of such a node.</summary>
internal sealed record ComponentInfo(
    [property: JsonPropertyName("type")] string Type,
    [property: JsonPropertyName("description")] string Description,
    [property: JsonPropertyName("parameters")] IReadOnlyList<ParameterInfo> Parameters,
    [property: JsonPropertyName("schema")] JsonObject Schema)
{
    /// <summary>Describes <paramref name="component"/> from its definition, the same one the validator checks against.</summary>
    public static ComponentInfo From(Component component, IReadOnlyList<string> modelAliases)
    {
        var properties = new JsonObject
        {
            ["id"] = new JsonObject { ["type"] = "string", ["pattern"] = FlowIds.Pattern, ["description"] = "Unique within the flow." },
            ["type"] = new JsonObject { ["const"] = component.Type },
        };
        foreach (var parameter in component.Parameters)
        {
            properties[parameter.Name] = ParameterRules.Schema(parameter, modelAliases);
        }

        var required = new JsonArray(["id", "type", .. component.Parameters.Where(p => p.Required).Select(p => JsonValue.Create(p.Name))]);
        var schema = new JsonObject
        {
            ["type"] = "object",
            ["properties"] = properties,
            ["required"] = required,
            ["additionalProperties"] = false,
        };
        var parameters = component.Parameters
            .Select(p => new ParameterInfo(p.Name, p.Description, p.Required, p.Tweakable, ParameterRules.Schema(p, modelAliases)))
            .ToArray();
        return new ComponentInfo(component.Type, component.Description, parameters, schema);
    }
}

internal sealed record ParameterInfo(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("description")] string Description,
    [property: JsonPropertyName("required")] bool Required,
    [property: JsonPropertyName("tweakable")] bool Tweakable,
    [property: JsonPropertyName("schema")] JsonObject Schema);
