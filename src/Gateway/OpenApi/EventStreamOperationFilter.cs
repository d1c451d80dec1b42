using System.Text.Json.Nodes;
using Gateway.Streaming;
using Microsoft.OpenApi;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace Gateway.OpenApi;

/// <summary>
/// Describes an event stream by its events rather than by the wrapper type Swashbuckle would infer: the schema is
/// a <c>oneOf</c> of the payload schemas, and <c>x-sse-events</c> maps each event name to its payload, so that a
/// client generator gets a type for every <c>data:</c> line it can receive.
/// </summary>
internal sealed class EventStreamOperationFilter : IOperationFilter
{
    public void Apply(OpenApiOperation operation, OperationFilterContext context)
    {
        var metadata = context.ApiDescription.ActionDescriptor.EndpointMetadata.OfType<EventStreamMetadata>().FirstOrDefault();
        if (metadata is null)
        {
            return;
        }

        operation.Responses ??= [];
        if (!operation.Responses.TryGetValue("200", out var response))
        {
            response = new OpenApiResponse { Description = "OK" };
            operation.Responses["200"] = response;
        }

        var payloads = new List<IOpenApiSchema>();
        var events = new JsonArray();
        var lines = new List<string>();
        foreach (var streamEvent in metadata.Events)
        {
            var schema = context.SchemaGenerator.GenerateSchema(streamEvent.Payload, context.SchemaRepository);
            if (!payloads.Any(existing => SameReference(existing, schema)))
            {
                payloads.Add(schema);
            }

            // "schema" names a component; a payload that is plain text (`[DONE]`) has none, and says its type instead.
            var described = new JsonObject
            {
                ["event"] = streamEvent.Name,
                ["schema"] = schema is OpenApiSchemaReference reference ? reference.Reference.Id : null,
                ["description"] = streamEvent.Description,
            };
            if (streamEvent.Payload == typeof(string))
            {
                described["type"] = "string";
            }

            events.Add(described);
            var payloadName = streamEvent.Payload == typeof(string) ? "text" : streamEvent.Payload.Name;
            lines.Add($"- `{streamEvent.Name ?? "(data only)"}`: `{payloadName}`, {streamEvent.Description}");
        }

        var content = response.Content ?? (response is OpenApiResponse concreteResponse ? concreteResponse.Content = new Dictionary<string, OpenApiMediaType>() : null);
        content![EventStreamMetadata.ContentType] = new OpenApiMediaType
        {
            Schema = new OpenApiSchema
            {
                Description = "Server-Sent Events; the schema of each event's `data:` line is one of these.",
                OneOf = payloads,
            },
        };

        if (response is OpenApiResponse concrete)
        {
            concrete.Description = $"{concrete.Description}\n\nAs `text/event-stream` the events are:\n{string.Join('\n', lines)}".Trim();
        }

        operation.Extensions ??= new Dictionary<string, IOpenApiExtension>();
        operation.Extensions["x-sse-events"] = new JsonNodeExtension(events);
    }

    private static bool SameReference(IOpenApiSchema a, IOpenApiSchema b) =>
        a is OpenApiSchemaReference ra && b is OpenApiSchemaReference rb && ra.Reference.Id == rb.Reference.Id;
}
