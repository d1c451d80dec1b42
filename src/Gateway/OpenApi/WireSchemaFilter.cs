using System.Text.Json.Nodes;
using Gateway.Chat;
using Microsoft.OpenApi;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace Gateway.OpenApi;

/// <summary>
/// What reflection cannot see in the wire types: fields that take a string or an array (custom converters),
/// requests that tolerate unknown fields (the OpenAI SDKs send them), members a request must carry (declared nullable
/// in C# so that the validator, not the parser, names what is missing), the statuses a run and a node can have,
/// and an example for each.
/// </summary>
internal sealed class WireSchemaFilter : ISchemaFilter
{
    /// <summary>Request members that must be sent, and not as null, by wire type.</summary>
    public static readonly IReadOnlyDictionary<Type, string[]> RequiredNonNull = new Dictionary<Type, string[]>
    {
        [typeof(ChatCompletionRequest)] = ["model", "messages"],
        [typeof(ChatRequestMessage)] = ["role"],
    };

    public void Apply(IOpenApiSchema schema, SchemaFilterContext context)
    {
        if (schema is not OpenApiSchema concrete)
        {
            return;
        }

        if (context.Type == typeof(ChatCompletionRequest))
        {
            concrete.AdditionalPropertiesAllowed = true;
            concrete.AdditionalProperties = null;
            RequireNonNull(concrete, RequiredNonNull[typeof(ChatCompletionRequest)]);
            ReplaceProperty(concrete, "stop", StringOrArray("Up to 4 sequences where the model stops.", new OpenApiSchema { Type = JsonSchemaType.String }));
        }
        else if (context.Type == typeof(ChatRequestMessage))
        {
            concrete.AdditionalPropertiesAllowed = true;
            concrete.AdditionalProperties = null;
            RequireNonNull(concrete, RequiredNonNull[typeof(ChatRequestMessage)]);
            ReplaceProperty(concrete, "content", StringOrArray("A string, or text parts (`{\"type\":\"text\",\"text\":...}`) joined into one.", TextPart()));
        }
        else if (context.Type == typeof(Runs.RunRecord))
        {
            OneOf(concrete, "status", typeof(Runs.RunStatus));
        }
        else if (context.Type == typeof(Runs.NodeRecord))
        {
            OneOf(concrete, "status", typeof(Runs.NodeStatus));
        }

        if (WireExamples.For(context.Type) is { } example)
        {
            concrete.Examples = [example];
        }
    }

    /// <summary>Members the request must carry, and not as <c>null</c> (which is a 400, as a missing one is).</summary>
    private static void RequireNonNull(OpenApiSchema schema, string[] names)
    {
        schema.Required = new HashSet<string>(names);
        foreach (var name in names)
        {
            if (schema.Properties?.TryGetValue(name, out var property) == true && property is OpenApiSchema member && member.Type is { } type)
            {
                member.Type = type & ~JsonSchemaType.Null;
            }
        }
    }

    /// <summary>A string member's values: the constants of the class that names them, so that the two cannot drift apart.</summary>
    private static void OneOf(OpenApiSchema schema, string name, Type constants)
    {
        if (schema.Properties?.TryGetValue(name, out var property) == true && property is OpenApiSchema member)
        {
            member.Enum = [.. constants
                .GetFields(System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.Static)
                .Where(field => field.IsLiteral)
                .Select(field => (JsonNode)JsonValue.Create((string)field.GetRawConstantValue()!))];
        }
    }

    private static void ReplaceProperty(OpenApiSchema schema, string name, OpenApiSchema replacement)
    {
        if (schema.Properties?.TryGetValue(name, out var generated) == true)
        {
            // Whether the property may be null is the generator's finding, from the C# type; the replacement keeps it.
            if (generated.Type?.HasFlag(JsonSchemaType.Null) == true)
            {
                replacement.Type = JsonSchemaType.Null;
            }

            schema.Properties[name] = replacement;
        }
    }

    private static OpenApiSchema StringOrArray(string description, IOpenApiSchema item) => new()
    {
        Description = description,
        OneOf = [new OpenApiSchema { Type = JsonSchemaType.String }, new OpenApiSchema { Type = JsonSchemaType.Array, Items = item }],
    };

    private static OpenApiSchema TextPart() => new()
    {
        Type = JsonSchemaType.Object,
        Required = new HashSet<string> { "type", "text" },
        Properties = new Dictionary<string, IOpenApiSchema>
        {
            ["type"] = new OpenApiSchema { Type = JsonSchemaType.String, Enum = [JsonValue.Create("text")] },
            ["text"] = new OpenApiSchema { Type = JsonSchemaType.String },
        },
    };
}
