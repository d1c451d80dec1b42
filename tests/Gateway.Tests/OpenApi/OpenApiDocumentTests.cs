using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.OpenApi;

public sealed class OpenApiDocumentTests : IAsyncLifetime
{
    private static readonly string CheckedInPath = Path.Combine(RepositoryRoot.Path, "docs", "openapi.json");

    private GatewayHost _gateway = null!;

    public async Task InitializeAsync() => _gateway = await GatewayHost.StartAsync(GatewayHost.SimulatedSettings());

    public async Task DisposeAsync() => await _gateway.DisposeAsync();

    private async Task<string> ServedAsync() => await _gateway.Client.GetStringAsync("/swagger/v1/swagger.json");

    /// <summary>
    /// The document is rendered once and served from then on, the same bytes with an <c>ETag</c>, to GET and to HEAD:
    /// Swashbuckle rendered it anew for every request (~35 ms of CPU each, for anyone, without a key or a rate limit),
    /// and answered GET alone (a HEAD fell through to a 404).
    /// </summary>
    [Fact]
    public async Task TheDocument_IsServedTheSameEveryTime_WithAnETag_ToGetAndHead()
    {
        using var first = await _gateway.Client.GetAsync("/swagger/v1/swagger.json");
        using var second = await _gateway.Client.GetAsync("/swagger/v1/swagger.json");
        using var head = await _gateway.Client.SendAsync(new HttpRequestMessage(HttpMethod.Head, "/swagger/v1/swagger.json"));
        var body = await first.Content.ReadAsByteArrayAsync();

        Assert.Equal(body, await second.Content.ReadAsByteArrayAsync());
        var etag = first.Headers.ETag;
        Assert.NotNull(etag);
        Assert.Equal(etag, second.Headers.ETag);
        Assert.Equal(HttpStatusCode.OK, head.StatusCode);
        Assert.Equal(etag, head.Headers.ETag);
        Assert.Equal(body.Length, head.Content.Headers.ContentLength);
        Assert.Equal(first.Content.Headers.ContentType, head.Content.Headers.ContentType);
        Assert.Empty(await head.Content.ReadAsByteArrayAsync());

        using var revalidate = new HttpRequestMessage(HttpMethod.Get, "/swagger/v1/swagger.json");
        revalidate.Headers.IfNoneMatch.Add(etag);
        using var notModified = await _gateway.Client.SendAsync(revalidate);
        Assert.Equal(HttpStatusCode.NotModified, notModified.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await _gateway.Client.GetAsync("/swagger/v2/swagger.json")).StatusCode);
    }

    /// <summary>
    /// The document is a contract: any change to it must show as a diff of docs/openapi.json. To accept a change,
    /// run the tests once with GATEWAY_UPDATE_OPENAPI=1 and commit the file.
    /// </summary>
    [Fact]
    public async Task ServedDocument_MatchesTheCheckedInCopy()
    {
        var served = JsonNode.Parse(await ServedAsync())!;
        var pretty = served.ToJsonString(new JsonSerializerOptions { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }) + "\n";
        if (Environment.GetEnvironmentVariable("GATEWAY_UPDATE_OPENAPI") == "1")
        {
            await File.WriteAllTextAsync(CheckedInPath, pretty);
        }

        Assert.True(File.Exists(CheckedInPath), $"{CheckedInPath} is missing; run the tests with GATEWAY_UPDATE_OPENAPI=1 to write it.");
        var checkedIn = JsonNode.Parse(await File.ReadAllTextAsync(CheckedInPath))!;
        Assert.True(
            JsonNode.DeepEquals(served, checkedIn),
            "The served OpenAPI document differs from docs/openapi.json. If the API change is intended, run the tests with GATEWAY_UPDATE_OPENAPI=1 and commit the diff.");
    }

    [Fact]
    public async Task EveryOperation_HasAUniqueOperationIdASummaryAndTags()
    {
        var document = JsonNode.Parse(await ServedAsync())!;
        var ids = new List<string>();
        foreach (var (path, item) in document["paths"]!.AsObject())
        {
            foreach (var (method, operation) in item!.AsObject())
            {
                var where = $"{method.ToUpperInvariant()} {path}";
                Assert.False(string.IsNullOrWhiteSpace(operation!["operationId"]?.GetValue<string>()), $"{where} has no operationId");
                Assert.False(string.IsNullOrWhiteSpace(operation["summary"]?.GetValue<string>()), $"{where} has no summary");
                Assert.NotEmpty(operation["tags"]!.AsArray());
                ids.Add(operation["operationId"]!.GetValue<string>());
            }
        }

        Assert.Equal(ids.Count, ids.Distinct().Count());
    }

    /// <summary>What a client generated from the document is told to expect, beside each operation's own answers.</summary>
    [Fact]
    public async Task TheDocument_DeclaresTheStoresAnswer_ValidationProblems_TheUpstreamsVerdicts_AndTheSlowBodyTimeout()
    {
        var document = JsonNode.Parse(await ServedAsync())!;
        var paths = document["paths"]!.AsObject();

        // Until 2026-12-06 a store that could not be used answered undeclared 503s (and on the run operations, a 503
        // described as the shutdown's alone).
        foreach (var (path, item) in paths.Where(pair => pair.Key.StartsWith("/api/", StringComparison.Ordinal)))
        {
            foreach (var (method, operation) in item!.AsObject())
            {
                var unavailable = operation!["responses"]!["503"]?["description"]?.GetValue<string>();
                Assert.True(unavailable?.Contains("store cannot be used", StringComparison.Ordinal) == true, $"{method} {path}: {unavailable}");
                Assert.NotNull(operation["responses"]!["503"]!["headers"]?["Retry-After"]);
            }
        }

        // Any /api 400 may be a repeated query parameter's, which lists it under errors: a generated client types them
        // only where the 400 is declared as a validation problem (GET and DELETE /api/flows/{id} were not, until 2026-12-07).
        foreach (var (path, item) in paths.Where(pair => pair.Key.StartsWith("/api/", StringComparison.Ordinal)))
        {
            foreach (var (method, operation) in item!.AsObject())
            {
                var invalid = operation!["responses"]!["400"]?["content"]?["application/problem+json"]?["schema"]?["$ref"]?.GetValue<string>();
                Assert.True(invalid == "#/components/schemas/HttpValidationProblemDetails", $"{method} {path}: 400 is {invalid}");
            }
        }

        var chat = paths["/v1/chat/completions"]!["post"]!["responses"]!;
        Assert.NotNull(chat["4XX"]); // an upstream's 422 or 409, passed on
        Assert.NotNull(chat["408"]); // a body that came too slowly
        Assert.Null(paths["/v1/models"]!["get"]!["responses"]!["503"]);
    }

    /// <summary>
    /// A wait or a count is declared as an integer wherever it is sent, so a generated client reads one type. Until
    /// 2026-12-07 the chat 503's <c>Retry-After</c> and <c>retry-after-ms</c>, and <c>X-Gateway-Attempts</c>, were
    /// declared as strings, where every other <c>Retry-After</c> was an integer.
    /// </summary>
    [Fact]
    public async Task EveryWaitAndCountHeader_IsDeclaredAsAnInteger()
    {
        var document = JsonNode.Parse(await ServedAsync())!;
        string[] wholeNumbers =
        [
            "Retry-After", "retry-after-ms", "X-Gateway-Attempts",
            "x-ratelimit-limit-requests", "x-ratelimit-remaining-requests", "x-ratelimit-limit-tokens", "x-ratelimit-remaining-tokens",
        ];
        var declared = 0;
        foreach (var (path, item) in document["paths"]!.AsObject())
        {
            foreach (var (method, operation) in item!.AsObject())
            {
                foreach (var (status, response) in operation!["responses"]!.AsObject())
                {
                    foreach (var (name, header) in response!["headers"]?.AsObject() ?? [])
                    {
                        if (wholeNumbers.Contains(name, StringComparer.OrdinalIgnoreCase))
                        {
                            declared++;
                            Assert.True(header!["schema"]!["type"]!.GetValue<string>() == "integer", $"{method} {path} {status}: {name} is {header["schema"]!["type"]}");
                        }
                    }
                }
            }
        }

        Assert.True(declared > 20, $"only {declared} declared");
    }

    /// <summary>
    /// Every /v1 answer carries <c>x-request-id</c>, and the document says so on each. Until 2026-12-07 it was declared
    /// status by status, and the passed-on upstream verdicts (<c>4XX</c>) and the slow body's 408 were missed.
    /// </summary>
    [Fact]
    public async Task EveryOpenAiAnswer_DeclaresItsRequestId()
    {
        var document = JsonNode.Parse(await ServedAsync())!;
        var answers = 0;
        foreach (var (path, item) in document["paths"]!.AsObject().Where(pair => pair.Key.StartsWith("/v1/", StringComparison.Ordinal)))
        {
            foreach (var (method, operation) in item!.AsObject())
            {
                foreach (var (status, response) in operation!["responses"]!.AsObject())
                {
                    answers++;
                    Assert.True(response!["headers"]?["x-request-id"] is not null, $"{method} {path} {status} declares no x-request-id");
                }
            }
        }

        Assert.True(answers > 15, $"only {answers} answers");
    }

    /// <summary>A key's x-ratelimit-* headers: on every answer of a completion but the 401, and on every 429.</summary>
    [Fact]
    public async Task CompletionAnswers_AndEvery429_DeclareTheRateLimitHeaders()
    {
        var document = JsonNode.Parse(await ServedAsync())!;
        string[] names =
        [
            "x-ratelimit-limit-requests", "x-ratelimit-remaining-requests", "x-ratelimit-reset-requests",
            "x-ratelimit-limit-tokens", "x-ratelimit-remaining-tokens", "x-ratelimit-reset-tokens",
        ];
        var tooMany = 0;
        foreach (var (path, item) in document["paths"]!.AsObject())
        {
            foreach (var (method, operation) in item!.AsObject())
            {
                var completion = operation!["operationId"]?.GetValue<string>() == "CreateChatCompletion";
                foreach (var (status, response) in operation["responses"]!.AsObject())
                {
                    tooMany += status == "429" ? 1 : 0;
                    var expected = status == "429" || (completion && status != "401");
                    Assert.All(names, name => Assert.True(
                        (response!["headers"]?[name] is not null) == expected, $"{method} {path} {status}: {name} {(expected ? "not declared" : "declared")}"));
                }
            }
        }

        Assert.True(tooMany > 10, $"only {tooMany} 429s");
    }

    [Fact]
    public async Task StreamingOperations_DescribeTheirEventPayloadsNotAWrapper()
    {
        var document = JsonNode.Parse(await ServedAsync())!;
        var chat = document["paths"]!["/v1/chat/completions"]!["post"]!;
        var stream = chat["responses"]!["200"]!["content"]!["text/event-stream"]!["schema"]!;

        var refs = stream["oneOf"]!.AsArray().Select(s => s!["$ref"]?.GetValue<string>()).ToList();
        Assert.Contains("#/components/schemas/ChatCompletionChunk", refs);
        Assert.Contains("#/components/schemas/OpenAiErrorResponse", refs);
        Assert.DoesNotContain(refs, r => r?.Contains("SseItem", StringComparison.Ordinal) == true);
        Assert.Equal("#/components/schemas/ChatCompletion", chat["responses"]!["200"]!["content"]!["application/json"]!["schema"]!["$ref"]!.GetValue<string>());
        Assert.NotEmpty(chat["x-sse-events"]!.AsArray());
    }

    [Fact]
    public async Task SwaggerUi_IsServed()
    {
        using var response = await _gateway.Client.GetAsync("/swagger/index.html");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("swagger-ui", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Disabled_ServesNoDocument()
    {
        var settings = GatewayHost.SimulatedSettings();
        settings["Gateway:OpenApi:Enabled"] = "false";
        await using var gateway = await GatewayHost.StartAsync(settings);

        using var response = await gateway.Client.GetAsync("/swagger/v1/swagger.json");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }
}
