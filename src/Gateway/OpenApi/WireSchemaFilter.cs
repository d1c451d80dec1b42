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
        [typeof(ChatTool)] = ["type", "function"],
        [typeof(ChatFunction)] = ["name"],
        [typeof(ChatToolCall)] = ["id", "type", "function"],
        [typeof(ChatFunctionCall)] = ["name", "arguments"],
    };

    /// <summary>Request types whose unknown members are ignored, as the OpenAI SDKs expect of a server older than they are.</summary>
    private static readonly HashSet<Type> Tolerant =
        [typeof(ChatCompletionRequest), typeof(ChatRequestMessage), typeof(ChatTool), typeof(ChatFunction), typeof(ChatToolCall), typeof(ChatFunctionCall)];

    public void Apply(IOpenApiSchema schema, SchemaFilterContext context)
    {
        if (schema is not OpenApiSchema concrete)
        {
            return;
        }

        // Also called for a member that refers to the type (a nullable $ref's allOf wrapper), which keeps its example
        // but takes none of the type's own rules: those are in the type's schema.
        if (concrete.AllOf is { Count: > 0 })
        {
            AddExample(concrete, context.Type);
            return;
        }

        if (Tolerant.Contains(context.Type))
        {
            concrete.AdditionalPropertiesAllowed = true;
            concrete.AdditionalProperties = null;
            RequireNonNull(concrete, RequiredNonNull[context.Type]);
        }

        if (context.Type == typeof(ChatCompletionRequest))
        {
            ReplaceProperty(concrete, "stop", StringOrArray("Up to 4 sequences where the model stops.", new OpenApiSchema { Type = JsonSchemaType.String }));
            ReplaceProperty(concrete, "tool_choice", ToolChoice());
            PassedOnSchemas.AddTo(concrete);
        }
        else if (context.Type == typeof(ChatTool) || context.Type == typeof(ChatToolCall))
        {
            Constrain(concrete, "type", new OpenApiSchema { Type = JsonSchemaType.String, Enum = [JsonValue.Create("function")] });
        }
        else if (context.Type == typeof(ChatFunction))
        {
            Constrain(concrete, "name", new OpenApiSchema { Type = JsonSchemaType.String, Pattern = "^[a-zA-Z0-9_-]{1,64}$" });
            Constrain(concrete, "parameters", new OpenApiSchema { Type = JsonSchemaType.Object | JsonSchemaType.Null, Description = "The arguments' JSON schema; sent on as written." });
        }
        else if (context.Type == typeof(ChatRequestMessage))
        {
            ReplaceProperty(concrete, "content", StringOrArray(
                "A string, or parts: text (`{\"type\":\"text\",\"text\":...}`), in a user message images (`{\"type\":\"image_url\",\"image_url\":{\"url\":...}}`), sent on in order, and in an assistant message its refusal (`{\"type\":\"refusal\",\"refusal\":...}`), sent on as the assistant's `refusal`.",
                new OpenApiSchema { OneOf = [TextPart(), ImagePart(), RefusalPart()] }));
        }
        else if (context.Type == typeof(Runs.RunRecord))
        {
            OneOf(concrete, "status", typeof(Runs.RunStatus));
        }
        else if (context.Type == typeof(Runs.NodeRecord))
        {
            OneOf(concrete, "status", typeof(Runs.NodeStatus));
        }

        AddExample(concrete, context.Type);
    }

    private static void AddExample(OpenApiSchema schema, Type type)
    {
        if (WireExamples.For(type) is { } example)
        {
            schema.Examples = [example];
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

    /// <summary>A member's schema made narrower than its C# type says (a string's values, a free-form member's kind).</summary>
    private static void Constrain(OpenApiSchema schema, string name, OpenApiSchema narrower)
    {
        if (schema.Properties?.TryGetValue(name, out var generated) == true && generated is OpenApiSchema member)
        {
            narrower.Description ??= member.Description;
            if (member.Type?.HasFlag(JsonSchemaType.Null) == true && !(schema.Required?.Contains(name) ?? false))
            {
                narrower.Type |= JsonSchemaType.Null;
            }

            schema.Properties[name] = narrower;
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

    private static OpenApiSchema ToolChoice() => new()
    {
        Description = "Whether the model may, must, or must not call one of `tools`, or which one it must call.",
        Type = JsonSchemaType.Null, // may be null, which asks for nothing (the oneOf says what else it may be)
        OneOf =
        [
            new OpenApiSchema { Type = JsonSchemaType.String, Enum = [JsonValue.Create("none"), JsonValue.Create("auto"), JsonValue.Create("required")] },
            new OpenApiSchema
            {
                Type = JsonSchemaType.Object,
                Required = new HashSet<string> { "type", "function" },
                Properties = new Dictionary<string, IOpenApiSchema>
                {
                    ["type"] = new OpenApiSchema { Type = JsonSchemaType.String, Enum = [JsonValue.Create("function")] },
                    ["function"] = new OpenApiSchema
                    {
                        Type = JsonSchemaType.Object,
                        Required = new HashSet<string> { "name" },
                        Properties = new Dictionary<string, IOpenApiSchema> { ["name"] = new OpenApiSchema { Type = JsonSchemaType.String } },
                    },
                },
            },
        ],
    };

    private static OpenApiSchema ImagePart() => new()
    {
        Type = JsonSchemaType.Object,
        Required = new HashSet<string> { "type", "image_url" },
        Properties = new Dictionary<string, IOpenApiSchema>
        {
            ["type"] = new OpenApiSchema { Type = JsonSchemaType.String, Enum = [JsonValue.Create("image_url")] },
            ["image_url"] = new OpenApiSchema
            {
                Type = JsonSchemaType.Object,
                Required = new HashSet<string> { "url" },
                Properties = new Dictionary<string, IOpenApiSchema>
                {
                    ["url"] = new OpenApiSchema
                    {
                        Type = JsonSchemaType.String,
                        MinLength = 1,
                        Description = "An `https:` or `http:` URL, or a `data:image/...;base64,...` URL (mind `Gateway:Limits:MaxRequestBytes`, 1 MiB by default).",
                    },
                    ["detail"] = new OpenApiSchema
                    {
                        Type = JsonSchemaType.String,
                        Enum = [JsonValue.Create("auto"), JsonValue.Create("low"), JsonValue.Create("high")],
                    },
                },
            },
        },
    };

    private static OpenApiSchema RefusalPart() => new()
    {
        Type = JsonSchemaType.Object,
        Required = new HashSet<string> { "type", "refusal" },
        Properties = new Dictionary<string, IOpenApiSchema>
        {
            ["type"] = new OpenApiSchema { Type = JsonSchemaType.String, Enum = [JsonValue.Create("refusal")] },
            ["refusal"] = new OpenApiSchema { Type = JsonSchemaType.String },
        },
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
