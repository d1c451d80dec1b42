using System.Text.Json.Nodes;
using Gateway.Chat;
using Microsoft.OpenApi;

namespace Gateway.OpenApi;

/// <summary>
/// The request members the gateway sends on as written (<see cref="PassedOnParameters"/>), declared in the document so
/// that generated clients type them: they are read from the request's extension data, which reflection cannot see.
/// Each may be null, which sends nothing.
/// </summary>
internal static class PassedOnSchemas
{
    public static void AddTo(OpenApiSchema request)
    {
        request.Properties ??= new Dictionary<string, IOpenApiSchema>();
        foreach (var (name, schema) in Schemas())
        {
            schema.Type = (schema.Type ?? 0) | JsonSchemaType.Null;
            request.Properties[name] = schema;
        }
    }

    private static IEnumerable<(string Name, OpenApiSchema Schema)> Schemas()
    {
        yield return ("response_format", ResponseFormat());
        yield return ("presence_penalty", Penalty("Penalises tokens that have appeared at all, from -2 to 2."));
        yield return ("frequency_penalty", Penalty("Penalises tokens by how often they have appeared, from -2 to 2."));
        yield return ("logit_bias", new OpenApiSchema
        {
            Type = JsonSchemaType.Object,
            AdditionalProperties = new OpenApiSchema { Type = JsonSchemaType.Number },
            Description = "Bias (-100 to 100) by token id.",
        });
        yield return ("reasoning_effort", Text("A reasoning model's effort (`minimal`, `low`, `medium`, `high`)."));
        yield return ("verbosity", Text("How long an answer the model writes (`low`, `medium`, `high`)."));
        yield return ("service_tier", Text("OpenAI's processing tier (`auto`, `default`, `flex`, `priority`)."));
        yield return ("store", new OpenApiSchema { Type = JsonSchemaType.Boolean, Description = "Whether OpenAI stores the completion." });
        yield return ("metadata", new OpenApiSchema
        {
            Type = JsonSchemaType.Object,
            AdditionalProperties = new OpenApiSchema { Type = JsonSchemaType.String },
            Description = "Tags for a stored completion.",
        });
        yield return ("prediction", new OpenApiSchema { Type = JsonSchemaType.Object, Description = "Predicted Outputs: text the answer is expected to repeat." });
        yield return ("prompt_cache_key", Text("Groups requests that share a prompt prefix, for OpenAI's prompt cache."));
        yield return ("prompt_cache_retention", Text("How long OpenAI's prompt cache keeps the prefix (`in_memory`, `24h`)."));
        yield return ("prompt_cache_options", new OpenApiSchema { Type = JsonSchemaType.Object, Description = "OpenAI's prompt cache options (`mode`, `ttl`)." });
        yield return ("safety_identifier", Text("A stable id of the end user, for OpenAI's abuse detection."));
    }

    private static OpenApiSchema Text(string description) => new() { Type = JsonSchemaType.String, Description = description };

    private static OpenApiSchema Penalty(string description) => new()
    {
        Type = JsonSchemaType.Number,
        Minimum = "-2",
        Maximum = "2",
        Description = description,
    };

    private static OpenApiSchema ResponseFormat() => new()
    {
        Description = "The answer's format: text, any JSON object (JSON mode), or JSON that follows a schema (Structured Outputs).",
        OneOf =
        [
            new OpenApiSchema
            {
                Type = JsonSchemaType.Object,
                Required = new HashSet<string> { "type" },
                Properties = new Dictionary<string, IOpenApiSchema>
                {
                    ["type"] = new OpenApiSchema { Type = JsonSchemaType.String, Enum = [JsonValue.Create("text"), JsonValue.Create("json_object")] },
                },
            },
            new OpenApiSchema
            {
                Type = JsonSchemaType.Object,
                Required = new HashSet<string> { "type", "json_schema" },
                Properties = new Dictionary<string, IOpenApiSchema>
                {
                    ["type"] = new OpenApiSchema { Type = JsonSchemaType.String, Enum = [JsonValue.Create("json_schema")] },
                    ["json_schema"] = new OpenApiSchema
                    {
                        Type = JsonSchemaType.Object,
                        Required = new HashSet<string> { "name" },
                        Properties = new Dictionary<string, IOpenApiSchema>
                        {
                            ["name"] = new OpenApiSchema { Type = JsonSchemaType.String },
                            ["description"] = new OpenApiSchema { Type = JsonSchemaType.String },
                            ["schema"] = new OpenApiSchema { Type = JsonSchemaType.Object },
                            ["strict"] = new OpenApiSchema { Type = JsonSchemaType.Boolean },
                        },
                    },
                },
            },
        ],
    };
}
