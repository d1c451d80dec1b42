using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace Gateway.Flows;

/// <summary>One entry of <c>GET /api/components</c>: a node type, its parameters, and the JSON schema of such a node.</summary>
/// <param name="Type">The node type, a flow node's <c>type</c>.</param>
/// <param name="Description">What a node of this type does.</param>
/// <param name="Parameters">The fields a node of this type may have besides <c>id</c> and <c>type</c>.</param>
/// <param name="Schema">The JSON Schema of a node of this type.</param>
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

/// <summary>One field of a node type.</summary>
/// <param name="Name">The field's name in a flow node.</param>
/// <param name="Description">What it sets.</param>
/// <param name="Required">Whether every node of the type must have it.</param>
/// <param name="Tweakable">Whether a run request may override it (<c>tweaks</c>).</param>
/// <param name="Schema">The JSON Schema of its value.</param>
internal sealed record ParameterInfo(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("description")] string Description,
    [property: JsonPropertyName("required")] bool Required,
    [property: JsonPropertyName("tweakable")] bool Tweakable,
    [property: JsonPropertyName("schema")] JsonObject Schema);
