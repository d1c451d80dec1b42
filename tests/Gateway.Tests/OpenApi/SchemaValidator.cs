using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Gateway.Tests.OpenApi;

/// <summary>
/// Checks JSON against a schema of an OpenAPI 3.0 document, for the keywords the gateway's document uses. Written
/// here rather than taken from a JSON Schema library: OAS 3.0 is not JSON Schema (<c>nullable</c>, which since 3.0.3
/// counts only beside a <c>type</c>, and a <c>$ref</c> whose siblings are ignored), and those two rules are exactly
/// what a client trusts.
/// </summary>
public sealed class SchemaValidator(JsonNode document)
{
    /// <returns>Every mismatch, each with the JSON path where it is; empty when <paramref name="value"/> conforms.</returns>
    public List<string> Validate(JsonNode? value, JsonNode schema, string path = "$")
    {
        var errors = new List<string>();
        Check(value, schema, path, errors);
        return errors;
    }

    /// <summary>A schema that constrains nothing (<c>{}</c>, or only described): any JSON value, null too.</summary>
    public static bool IsFreeForm(JsonNode schema) =>
        schema["type"] is null && schema["$ref"] is null && schema["allOf"] is null && schema["oneOf"] is null;

    public JsonNode Resolve(string reference) =>
        reference.Split('/').Skip(1).Aggregate(document, (node, segment) => node[segment]!);

    private void Check(JsonNode? value, JsonNode schema, string path, List<string> errors)
    {
        // OAS 3.0: beside $ref everything is ignored, nullable included.
        if (schema["$ref"] is { } reference)
        {
            Check(value, Resolve(reference.GetValue<string>()), path, errors);
            return;
        }

        if (value is null)
        {
            // OAS 3.0.3: nullable counts only beside a type (and an enum must list null); else a oneOf may hold a null alone.
            var nullable = schema["nullable"]?.GetValue<bool>() == true && schema["type"] is not null
                && (schema["enum"] is not JsonArray values || values.Any(option => option is null));
            var oneNullOption = schema["oneOf"] is JsonArray options && options.Count(option => Validate(null, option!, path).Count == 0) == 1;
            if (!nullable && !oneNullOption && !IsFreeForm(schema))
            {
                errors.Add($"{path}: null, but the schema is not nullable");
            }

            return;
        }

        foreach (var part in schema["allOf"]?.AsArray() ?? [])
        {
            Check(value, part!, path, errors);
        }

        if (schema["oneOf"] is JsonArray oneOf)
        {
            var matches = oneOf.Count(option => Validate(value, option!, path).Count == 0);
            if (matches != 1)
            {
                errors.Add($"{path}: matches {matches} of the oneOf schemas, not exactly one");
            }
        }

        if (schema["enum"] is JsonArray allowed && !allowed.Any(option => JsonNode.DeepEquals(option, value)))
        {
            errors.Add($"{path}: {value.ToJsonString()} is not one of {allowed.ToJsonString()}");
        }

        switch (schema["type"]?.GetValue<string>())
        {
            case null:
                break;
            case "object" when value is JsonObject obj:
                CheckObject(obj, schema, path, errors);
                break;
            case "array" when value is JsonArray array:
                for (var i = 0; i < array.Count; i++)
                {
                    Check(array[i], schema["items"] ?? new JsonObject(), $"{path}[{i}]", errors);
                }

                break;
            case "string" when value.GetValueKind() == JsonValueKind.String:
                CheckFormat(value.GetValue<string>(), schema["format"]?.GetValue<string>(), path, errors);
                if (schema["minLength"] is { } minLength && value.GetValue<string>().Length < minLength.GetValue<int>())
                {
                    errors.Add($"{path}: '{value.GetValue<string>()}' is shorter than {minLength}");
                }

                break;
            case "boolean" when value.GetValueKind() is JsonValueKind.True or JsonValueKind.False:
                break;
            case "integer" when value.GetValueKind() == JsonValueKind.Number && decimal.IsInteger(value.GetValue<decimal>()):
            case "number" when value.GetValueKind() == JsonValueKind.Number:
                CheckRange(value.GetValue<decimal>(), schema, path, errors);
                break;
            case var type:
                errors.Add($"{path}: {value.ToJsonString()} is not of type {type}");
                break;
        }
    }

    private void CheckObject(JsonObject value, JsonNode schema, string path, List<string> errors)
    {
        var properties = schema["properties"]?.AsObject();
        foreach (var name in schema["required"]?.AsArray().Select(n => n!.GetValue<string>()) ?? [])
        {
            if (!value.ContainsKey(name))
            {
                errors.Add($"{path}: the required property '{name}' is missing");
            }
        }

        foreach (var (name, propertyValue) in value)
        {
            if (properties?[name] is { } propertySchema)
            {
                Check(propertyValue, propertySchema, $"{path}.{name}", errors);
            }
            else if (schema["additionalProperties"] is JsonObject additional)
            {
                Check(propertyValue, additional, $"{path}.{name}", errors);
            }
            else if (schema["additionalProperties"]?.GetValue<bool>() == false)
            {
                errors.Add($"{path}: the property '{name}' is not in the schema");
            }
        }
    }

    private static void CheckRange(decimal number, JsonNode schema, string path, List<string> errors)
    {
        if ((schema["minimum"] is { } minimum && number < minimum.GetValue<decimal>()) ||
            (schema["maximum"] is { } maximum && number > maximum.GetValue<decimal>()))
        {
            errors.Add($"{path}: {number} is out of the schema's range");
        }
    }

    private static void CheckFormat(string text, string? format, string path, List<string> errors)
    {
        if (format == "date-time" && !DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.None, out _))
        {
            errors.Add($"{path}: '{text}' is not a date-time");
        }
    }
}
