using System.Text.Json.Nodes;
using Gateway.Chat;
using Microsoft.OpenApi;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace Gateway.OpenApi;

/// <summary>
/// What reflection cannot see in the wire types: fields that take a string or an array (custom converters),
/// requests that tolerate unknown fields (the OpenAI SDKs send them), and an example for each.
/// </summary>
internal sealed class WireSchemaFilter : ISchemaFilter
{
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
            concrete.Required = new HashSet<string> { "model", "messages" };
            ReplaceProperty(concrete, "stop", StringOrArray("Up to 4 sequences where the model stops.", new OpenApiSchema { Type = JsonSchemaType.String }));
        }
        else if (context.Type == typeof(ChatRequestMessage))
        {
            concrete.AdditionalPropertiesAllowed = true;
            concrete.AdditionalProperties = null;
            concrete.Required = new HashSet<string> { "role" };
            ReplaceProperty(concrete, "content", StringOrArray("A string, or text parts (`{\"type\":\"text\",\"text\":...}`) joined into one.", TextPart()));
        }

        if (WireExamples.For(context.Type) is { } example)
        {
            concrete.Examples = [example];
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
