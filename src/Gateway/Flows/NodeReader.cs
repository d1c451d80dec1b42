using System.Text.Json;
using System.Text.Json.Nodes;

namespace Gateway.Flows;

/// <summary>
/// What could be read of one node: its id and type if they are valid; and, when its type is, the node with its
/// valid fields (its id empty when that is not valid), so that its references are checked too even when another of
/// its fields, or its id, is wrong.
/// </summary>
internal sealed record NodeReading(string? Id, string? Type, FlowNode? Node);

/// <summary>Checks one node against its type's component: required parameters, unknown fields, value kinds.</summary>
internal static class NodeReader
{
    public static NodeReading Read(JsonElement element, string path, IReadOnlySet<string> modelAliases, ValidationErrors errors)
    {
        if (element.ValueKind != JsonValueKind.Object)
        {
            errors.Add(path, "A node must be a JSON object.");
            return new NodeReading(null, null, null);
        }

        var id = ReadId(element, path, errors);
        var component = ReadComponent(element, path, errors);
        if (component is null)
        {
            return new NodeReading(id, null, null);
        }

        // Without a valid id it is still read (its id empty), so that its references are checked too.
        var validFields = new JsonObject { ["id"] = id ?? "", ["type"] = component.Type };
        foreach (var property in element.EnumerateObject())
        {
            // Not given (GivenFields): clients generated from the one node schema send every field, null where unset.
            if (property.Name is "id" or "type" || (property.Value.ValueKind == JsonValueKind.Null && ComponentCatalog.IsParameterOfAny(property.Name)))
            {
                continue;
            }

            var propertyPath = $"{path}.{property.Name}";
            if (component.Find(property.Name) is not { } parameter)
            {
                errors.Add(propertyPath, $"Unknown field for a '{component.Type}' node; it takes {Describe(component)}.");
                continue;
            }

            var before = errors.Count;
            ParameterRules.Check(parameter, property.Value, propertyPath, errors, modelAliases);
            if (errors.Count == before)
            {
                validFields[property.Name] = JsonNode.Parse(property.Value.GetRawText());
            }
        }

        foreach (var parameter in component.Parameters.Where(p => p.Required && !element.IsGiven(p.Name)))
        {
            errors.Add($"{path}.{parameter.Name}", $"Required for a '{component.Type}' node.");
        }

        var node = validFields.Deserialize(FlowsJsonContext.Default.FlowNode);
        return new NodeReading(id, component.Type, node);
    }

    private static string? ReadId(JsonElement element, string path, ValidationErrors errors)
    {
        if (!element.TryGetGiven("id", out var value))
        {
            errors.Add($"{path}.id", "Required.");
        }
        else if (value.ValueKind != JsonValueKind.String || !FlowIds.IsValid(value.GetString()))
        {
            errors.Add($"{path}.id", $"A node id {FlowIds.Rule}.");
        }
        else
        {
            return value.GetString();
        }

        return null;
    }

    private static Component? ReadComponent(JsonElement element, string path, ValidationErrors errors)
    {
        if (!element.TryGetGiven("type", out var value))
        {
            errors.Add($"{path}.type", $"Required: one of {string.Join(", ", ComponentCatalog.Types)}.");
        }
        else if (value.ValueKind != JsonValueKind.String || ComponentCatalog.Find(value.GetString()!) is not { } component)
        {
            errors.Add($"{path}.type", $"Unknown node type '{value}'; the types are {string.Join(", ", ComponentCatalog.Types)}.");
        }
        else
        {
            return component;
        }

        return null;
    }

    private static string Describe(Component component) =>
        component.Parameters.Count == 0 ? "only id and type" : "id, type, " + string.Join(", ", component.Parameters.Select(p => p.Name));
}
