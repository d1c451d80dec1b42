using Gateway.Chat;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.OpenApi;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace Gateway.OpenApi;

/// <summary>
/// Adds what every operation has in common but does not declare one by one: the API-key requirement (unless
/// anonymous), and the error answers the pipeline can give before a handler runs — 401, 403, 413, 415, 429 — plus
/// 400 and 404 where a body or an id can be wrong. ProblemDetails under /api, the OpenAI error object under /v1.
/// </summary>
internal sealed class AccessOperationFilter : IOperationFilter
{
    public const string BearerScheme = "bearer";

    public const string ApiKeyScheme = "apiKey";

    public void Apply(OpenApiOperation operation, OperationFilterContext context)
    {
        var metadata = context.ApiDescription.ActionDescriptor.EndpointMetadata;
        if (metadata.OfType<IAllowAnonymous>().Any())
        {
            return;
        }

        operation.Security =
        [
            new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(BearerScheme, context.Document)] = [] },
            new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(ApiKeyScheme, context.Document)] = [] },
        ];

        var path = context.ApiDescription.RelativePath ?? "";
        var isOpenAi = path.StartsWith("v1/", StringComparison.Ordinal);
        var errorSchema = context.SchemaGenerator.GenerateSchema(isOpenAi ? typeof(OpenAiErrorResponse) : typeof(ProblemDetails), context.SchemaRepository);
        var contentType = isOpenAi ? "application/json" : "application/problem+json";
        var hasBody = operation.RequestBody is not null;

        operation.Responses ??= [];
        Add(operation, "401", "No API key, or an unknown one.", errorSchema, contentType);
        // Only where a key can be refused: an admin's operation, or one that names models. Elsewhere another key's
        // resource is a 404, and nothing is forbidden.
        var forAdmins = metadata.OfType<IAuthorizeData>().Any(data => data.Policy == Security.GatewayPolicies.Admin);
        var namesModels = metadata.OfType<ModelAllowlistMetadata>().Any();
        if (forAdmins || namesModels)
        {
            Add(operation, "403", forAdmins ? "The key's role is not admin." : "The key's model allowlist does not permit a model named.", errorSchema, contentType);
        }

        // Not where the request limit does not count (re-attaching to a run, cancelling one) and the endpoint names none.
        if (!metadata.OfType<Microsoft.AspNetCore.RateLimiting.DisableRateLimitingAttribute>().Any() || operation.Responses.ContainsKey("429"))
        {
            // Starting a run also counts the key's runs under way (Gateway:Limits:MaxRunsPerKey).
            var startsRun = context.ApiDescription.HttpMethod == "POST" && (path.TrimEnd('/') == "api/runs" || path.EndsWith("/run", StringComparison.Ordinal));
            Add(operation, "429", startsRun ? "Over the key's request or token limit, or its runs under way; see Retry-After." : "Over the key's request or token limit; see Retry-After.", errorSchema, contentType);
            RetryAfterOn(operation.Responses["429"]);
        }
        if (hasBody)
        {
            Add(operation, "400", "The body is not valid (every problem listed).", errorSchema, contentType);
            Add(operation, "408", "The body came too slowly (under 240 bytes a second, after 5 s).", errorSchema, contentType);
            Add(operation, "413", "The body is larger than Gateway:Limits:MaxRequestBytes.", errorSchema, contentType);
            Add(operation, "415", "The body is not JSON.", errorSchema, contentType);
        }

        // The /api group (and only it) refuses a repeated query parameter before the endpoint runs: every operation of
        // it can answer 400, those that take no body and validate nothing too. Until 2026-12-07 five declared no 400 at all.
        if (metadata.OfType<RepeatedQueryMetadata>().Any())
        {
            Add(operation, "400", RepeatedQueryMetadata.Description, context.SchemaGenerator.GenerateSchema(typeof(HttpValidationProblemDetails), context.SchemaRepository), contentType);
        }

        // Every /api operation reads or writes the store (flows, runs, usage); /v1 needs it for no answer.
        if (!isOpenAi)
        {
            Add(operation, "503", Hosting.GatewayExceptionHandler.StoreUnavailableMessage, errorSchema, contentType);
            RetryAfterOn(operation.Responses["503"]);
        }

        // A completion passes an upstream's verdict on the request on with its own status (422, 409, ...), as OpenAI's
        // clients expect: a range, for what no list can name in advance.
        if (operation.OperationId == "CreateChatCompletion")
        {
            Add(operation, "4XX", "The upstream's verdict on the request (422, 409, ...), passed on with its status, message, code and param.", errorSchema, contentType);
        }

        if (path.Contains('{', StringComparison.Ordinal))
        {
            Add(operation, "404", "No such resource (or not one this key may see).", errorSchema, contentType);
        }

        // Every /v1 answer carries x-request-id (ChatApi.SetRequestId): those declared above, the passed-on 4XX and
        // the slow body's 408 too. Until 2026-12-07 it was declared status by status, and those two were missed.
        if (isOpenAi)
        {
            foreach (var response in operation.Responses.Values.OfType<OpenApiResponse>())
            {
                response.Headers ??= new Dictionary<string, IOpenApiHeader>();
                response.Headers[ChatApi.RequestIdHeader] = new OpenApiHeader
                {
                    Description = ChatApi.RequestIdDescription,
                    Schema = new OpenApiSchema { Type = JsonSchemaType.String },
                };
            }
        }

        // A key's x-ratelimit-* headers: on every answer of a completion the key got past authentication, and on a 429 anywhere.
        var onEveryAnswer = metadata.OfType<Security.RateLimitHeaders.OnEveryAnswer>().Any();
        foreach (var (status, response) in operation.Responses)
        {
            if (response is OpenApiResponse concrete && (status == "429" || (onEveryAnswer && status != "401")))
            {
                concrete.Headers ??= new Dictionary<string, IOpenApiHeader>();
                foreach (var (name, wholeNumber, description) in RateLimitHeaders)
                {
                    concrete.Headers[name] = new OpenApiHeader
                    {
                        Description = description,
                        Schema = new OpenApiSchema { Type = wholeNumber ? JsonSchemaType.Integer : JsonSchemaType.String },
                    };
                }
            }
        }
    }

    private const string ResetFormat = "as OpenAI writes it, in Go's duration format (`20ms`, `3.6s`, `1m0s`, `1h0m0s`)";

    private static readonly (string Name, bool WholeNumber, string Description)[] RateLimitHeaders =
    [
        (Security.RateLimitHeaders.LimitRequests, true, "The key's `RequestsPerMinute`; this header and the next two are absent for a key without one."),
        (Security.RateLimitHeaders.RemainingRequests, true, "The whole requests the key's bucket holds after this one, never below 0."),
        (Security.RateLimitHeaders.ResetRequests, false, $"The time until the key's request bucket is full again, {ResetFormat}; a 429's `Retry-After` is the wait for one request."),
        (Security.RateLimitHeaders.LimitTokens, true, "The key's `TokensPerMinute`; this header and the next two are absent for a key without one, and where the request took nothing from it: an answer before its reservation, a 429 for the request limit, and under /api any 429 but one to start a run."),
        (Security.RateLimitHeaders.RemainingTokens, true, "The whole tokens the key's bucket holds: after a stream's reservation, or a whole answer's settled usage; never below 0, though a debt is."),
        (Security.RateLimitHeaders.ResetTokens, false, $"The time until the key's token bucket is full again, {ResetFormat}."),
    ];

    /// <summary>A 429 (declared here or by the endpoint) and the store's 503 carry <c>Retry-After</c> and <c>retry-after-ms</c>.</summary>
    private static void RetryAfterOn(IOpenApiResponse response)
    {
        if (response is OpenApiResponse concrete)
        {
            concrete.Headers ??= new Dictionary<string, IOpenApiHeader>();
            concrete.Headers["Retry-After"] = new OpenApiHeader
            {
                Description = "Seconds to wait before trying again.",
                Schema = new OpenApiSchema { Type = JsonSchemaType.Integer },
            };
            concrete.Headers[Hosting.ErrorResponses.RetryAfterMsHeader] = new OpenApiHeader
            {
                Description = "The same wait in milliseconds, which the OpenAI SDKs read first.",
                Schema = new OpenApiSchema { Type = JsonSchemaType.Integer },
            };
        }
    }

    private static void Add(OpenApiOperation operation, string status, string description, IOpenApiSchema schema, string contentType)
    {
        if (operation.Responses!.ContainsKey(status))
        {
            return;
        }

        operation.Responses[status] = new OpenApiResponse
        {
            Description = description,
            Content = new Dictionary<string, OpenApiMediaType> { [contentType] = new() { Schema = schema } },
        };
    }
}
