using System.Text.Json.Nodes;
using Microsoft.OpenApi;

namespace Gateway.OpenApi;

internal static class OpenApiExtensions
{
    public const string DocumentName = "v1";

    /// <summary>The OpenAPI document, generated from the endpoints' own metadata and the real DTOs.</summary>
    public static IServiceCollection AddGatewayOpenApi(this IServiceCollection services)
    {
        services.AddEndpointsApiExplorer();
        services.AddSwaggerGen(options =>
        {
            options.SwaggerDoc(DocumentName, new OpenApiInfo
            {
                Title = "Gateway",
                Version = DocumentName,
                Description = "A streaming LLM gateway: OpenAI-compatible chat completions under /v1, flows and runs under /api. Every GET operation answers HEAD too: the same status and headers, no body.",
            });
            options.AddSecurityDefinition(AccessOperationFilter.BearerScheme, new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.Http,
                Scheme = "bearer",
                Description = "An API key from Gateway:Auth:Keys, as the OpenAI SDKs send it: `Authorization: Bearer <key>`.",
            });
            options.AddSecurityDefinition(AccessOperationFilter.ApiKeyScheme, new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.ApiKey,
                In = ParameterLocation.Header,
                Name = "x-api-key",
                Description = "The same key in an `x-api-key` header.",
            });
            // A GET's HEAD (HeadRequests) is HTTP's, not an operation of its own: described, it would double every GET
            // under a second operationId, and give each generated client a method per GET that no one calls.
            options.DocInclusionPredicate(static (documentName, description) =>
                !HttpMethods.IsHead(description.HttpMethod ?? "") && (description.GroupName is null || description.GroupName == documentName));
            options.OperationFilter<EventStreamOperationFilter>();
            options.OperationFilter<ResponseHeadersOperationFilter>();
            options.OperationFilter<AccessOperationFilter>();
            options.SchemaFilter<WireSchemaFilter>();
            options.DocumentFilter<NullableAlternativesFilter>();
            options.ParameterFilter<WholeNumberParameterFilter>();
            options.ParameterFilter<TrueOrFalseParameterFilter>();
            // The DOM types would be described by their .NET members (options, parent, root); on the wire they are the
            // JSON they hold, which is ours to describe where they are used (the JSON Schemas of GET /api/components).
            options.MapType<JsonObject>(() => new OpenApiSchema { Type = JsonSchemaType.Object, AdditionalProperties = new OpenApiSchema() });
            options.MapType<JsonNode>(() => new OpenApiSchema());
            // A message's content as the gateway reads it (its text, its parts): on the wire a string or parts, which
            // WireSchemaFilter describes.
            options.MapType<Chat.MessageContent>(() => new OpenApiSchema { Type = JsonSchemaType.String });
            options.SupportNonNullableReferenceTypes();
            // OAS 3.0 ignores everything beside a $ref, nullable included: a property that refers to a component is
            // wrapped in allOf, so that one that may be null (RunRecord.error) can say so.
            options.UseAllOfToExtendReferenceSchemas();
            options.IncludeXmlComments(typeof(OpenApiExtensions).Assembly);
        });
        return services;
    }

    /// <summary>Serves <c>/swagger/v1/swagger.json</c> and Swagger UI at <c>/swagger</c>, unless <c>Gateway:OpenApi:Enabled</c> is false.</summary>
    public static WebApplication MapGatewayOpenApi(this WebApplication app)
    {
        if (app.Configuration.GetSection(OpenApiOptions.Section).Get<OpenApiOptions>() is { Enabled: false })
        {
            return app;
        }

        // Both serve only under /swagger; branching there keeps their per-request path matching off every other call.
        app.UseWhen(
            static context => context.Request.Path.StartsWithSegments("/swagger"),
            static swagger => swagger
                .UseMiddleware<CachedOpenApiDocument>($"/swagger/{DocumentName}/swagger.json")
                .UseSwagger(options => options.OpenApiVersion = OpenApiSpecVersion.OpenApi3_0)
                .UseSwaggerUI(options => options.SwaggerEndpoint($"/swagger/{DocumentName}/swagger.json", "Gateway v1")));
        return app;
    }
}
