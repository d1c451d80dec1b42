using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Gateway.Flows;

/// <summary>
/// What each <see cref="ParameterKind"/> accepts, written twice from the same facts: as a check on a value and as
/// the JSON schema the catalog shows. Graph-level rules (a reference must exist) live in <see cref="FlowGraph"/>.
/// </summary>
internal static class ParameterRules
{
    public static void Check(ComponentParameter parameter, JsonElement value, string path, ValidationErrors errors, IReadOnlySet<string> modelAliases)
    {
        switch (parameter.Kind)
        {
            case ParameterKind.Template:
                RequireString(value, path, errors);
                break;
            case ParameterKind.ModelAlias:
                if (RequireString(value, path, errors) && !modelAliases.Contains(value.GetString()!))
                {
                    errors.Add(path, $"Unknown model '{value.GetString()}'; this gateway serves: {string.Join(", ", modelAliases.Order(StringComparer.Ordinal))}.");
                }

                break;
            case ParameterKind.NodeReference:
                if (RequireString(value, path, errors) && !FlowIds.IsValid(value.GetString()))
                {
                    errors.Add(path, $"Must be a node id: a node id {FlowIds.Rule}.");
                }

                break;
            case ParameterKind.NodeReferenceList:
                if (RequireStringArray(value, path, errors) && value.GetArrayLength() == 0)
                {
                    errors.Add(path, "Must name at least one node.");
                }

                break;
            case ParameterKind.Number:
                if (value.ValueKind != JsonValueKind.Number || value.GetDouble() < parameter.Minimum || value.GetDouble() > parameter.Maximum)
                {
                    errors.Add(path, $"Must be a number from {Format(parameter.Minimum)} to {Format(parameter.Maximum)}.");
                }

                break;
            case ParameterKind.Integer:
                if (value.ValueKind != JsonValueKind.Number || !value.TryGetDouble(out var number) || !WholeNumberConverter.TryWhole(number, out var integer)
                    || integer < parameter.Minimum || integer > parameter.Maximum)
                {
                    errors.Add(path, $"Must be a whole number from {Format(parameter.Minimum)} to {Format(parameter.Maximum ?? int.MaxValue)}.");
                }

                break;
            case ParameterKind.StringList:
                if (RequireStringArray(value, path, errors) && value.GetArrayLength() > parameter.MaxItems)
                {
                    errors.Add(path, $"May hold at most {parameter.MaxItems} strings.");
                }

                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(parameter), parameter.Kind, "Unknown parameter kind.");
        }
    }

    public static JsonObject Schema(ComponentParameter parameter, IReadOnlyList<string> modelAliases)
    {
        var schema = parameter.Kind switch
        {
            ParameterKind.Template or ParameterKind.NodeReference => new JsonObject { ["type"] = "string" },
            ParameterKind.ModelAlias => new JsonObject { ["type"] = "string", ["enum"] = new JsonArray([.. modelAliases.Select(a => JsonValue.Create(a))]) },
            ParameterKind.NodeReferenceList => new JsonObject { ["type"] = "array", ["items"] = new JsonObject { ["type"] = "string" }, ["minItems"] = 1 },
            ParameterKind.Number => new JsonObject { ["type"] = "number", ["minimum"] = parameter.Minimum, ["maximum"] = parameter.Maximum },
            ParameterKind.Integer => new JsonObject { ["type"] = "integer", ["minimum"] = parameter.Minimum, ["maximum"] = parameter.Maximum ?? int.MaxValue },
            ParameterKind.StringList => new JsonObject { ["type"] = "array", ["items"] = new JsonObject { ["type"] = "string" }, ["maxItems"] = parameter.MaxItems },
            _ => throw new ArgumentOutOfRangeException(nameof(parameter), parameter.Kind, "Unknown parameter kind."),
        };
        if (parameter.Kind is ParameterKind.NodeReference)
        {
            schema["pattern"] = FlowIds.Pattern;
        }

        schema["description"] = parameter.Description;
        return schema;
    }

    private static bool RequireString(JsonElement value, string path, ValidationErrors errors)
    {
        if (value.ValueKind == JsonValueKind.String)
        {
            return true;
        }

        errors.Add(path, "Must be a string.");
        return false;
    }

    private static bool RequireStringArray(JsonElement value, string path, ValidationErrors errors)
    {
        if (value.ValueKind == JsonValueKind.Array && value.EnumerateArray().All(item => item.ValueKind == JsonValueKind.String))
        {
            return true;
        }

        errors.Add(path, "Must be an array of strings.");
        return false;
    }

    private static string Format(double? value) => value?.ToString(CultureInfo.InvariantCulture) ?? "";
}
