using System.Net;
using Gateway.Providers;
using Gateway.Security;
using Gateway.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.Tests.Security;

public sealed class HttpHardeningTests : IAsyncLifetime
{
    private const string AllowedOrigin = "https://app.example.com";
    private const string InternalDetail = "internal detail sk-should-not-leak";
    private GatewayHost _gateway = null!;

    public async Task InitializeAsync()
    {
        var settings = GatewayHost.SimulatedSettings().WithStandardKeys();
        settings["Gateway:Cors:AllowedOrigins:0"] = AllowedOrigin;
        settings["Gateway:Limits:MaxRequestBytes"] = "4096";
        _gateway = await GatewayHost.StartAsync(settings);
    }

    public async Task DisposeAsync() => await _gateway.DisposeAsync();

    [Fact]
    public async Task Preflight_FromAnAllowedOrigin_IsAnsweredWithoutAKey()
    {
        using var response = await _gateway.Client.SendAsync(Preflight(AllowedOrigin));

        Assert.True(response.IsSuccessStatusCode);
        Assert.Equal(AllowedOrigin, response.Headers.GetValues("Access-Control-Allow-Origin").Single());
        Assert.Contains("authorization", string.Join(",", response.Headers.GetValues("Access-Control-Allow-Headers")), StringComparison.OrdinalIgnoreCase);
        // Kept by the browser for 10 minutes: every call of a browser app (an Authorization header, a JSON body) is
        // preflighted, and without it each one waited for its own OPTIONS first (Chrome keeps one 5 s by default).
        Assert.Equal("600", response.Headers.GetValues("Access-Control-Max-Age").Single());
    }

    [Fact]
    public async Task OtherOrigins_GetNoCorsHeaders()
    {
        using var preflight = await _gateway.Client.SendAsync(Preflight("https://evil.example.net"));
        using var request = TestKeys.Request(HttpMethod.Get, "/v1/models", TestKeys.Client);
        request.Headers.Add("Origin", "https://evil.example.net");
        using var response = await _gateway.Client.SendAsync(request);

        Assert.False(preflight.Headers.Contains("Access-Control-Allow-Origin"));
        Assert.False(response.Headers.Contains("Access-Control-Allow-Origin"));
    }

    /// <summary>A browser app on an allowed origin builds its client from the document (until 2026-12-06: no CORS header on it).</summary>
    [Fact]
    public async Task AllowedOrigin_MayFetchTheOpenApiDocument_AndNoOtherOrigin()
    {
        using var allowed = new HttpRequestMessage(HttpMethod.Get, "/swagger/v1/swagger.json");
        allowed.Headers.Add("Origin", AllowedOrigin);
        using var other = new HttpRequestMessage(HttpMethod.Get, "/swagger/v1/swagger.json");
        other.Headers.Add("Origin", "https://evil.example.net");

        using var response = await _gateway.Client.SendAsync(allowed);
        using var refused = await _gateway.Client.SendAsync(other);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(AllowedOrigin, response.Headers.GetValues("Access-Control-Allow-Origin").Single());
        Assert.Contains("\"openapi\"", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.False(refused.Headers.Contains("Access-Control-Allow-Origin"));
    }

    [Fact]
    public async Task AllowedOrigin_SeesRetryAfterAttemptsAndRateLimitHeaders()
    {
        using var request = TestKeys.Request(HttpMethod.Get, "/v1/models", TestKeys.Client);
        request.Headers.Add("Origin", AllowedOrigin);
        using var response = await _gateway.Client.SendAsync(request);

        Assert.Equal(AllowedOrigin, response.Headers.GetValues("Access-Control-Allow-Origin").Single());
        Assert.Equal(
            [
                "Retry-After", "retry-after-ms", "Location", "X-Run-Id", "X-Gateway-Attempts", "X-Upstream-Request-Id", "x-should-retry", "x-request-id", "ETag",
                "x-ratelimit-limit-requests", "x-ratelimit-remaining-requests", "x-ratelimit-reset-requests",
                "x-ratelimit-limit-tokens", "x-ratelimit-remaining-tokens", "x-ratelimit-reset-tokens",
            ],
            string.Join(",", response.Headers.GetValues("Access-Control-Expose-Headers")).Split(','));
    }

    [Theory]
    [InlineData("/healthz", null, false)]
    [InlineData("/v1/models", TestKeys.Client, false)]
    [InlineData("/v1/models", null, false)]
    [InlineData("/nowhere", TestKeys.Client, false)]
    [InlineData("/v1/chat/completions", TestKeys.Client, true)]
    public async Task EveryResponse_CarriesTheSecurityHeaders(string path, string? key, bool stream)
    {
        using var request = TestKeys.Request(stream ? HttpMethod.Post : HttpMethod.Get, path, key,
            stream ? Json.ChatRequest("echo", "one two", stream: true) : null);
        using var response = await _gateway.Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);

        Assert.Equal("nosniff", response.Headers.GetValues("X-Content-Type-Options").Single());
        Assert.Equal("DENY", response.Headers.GetValues("X-Frame-Options").Single());
        Assert.Equal("no-referrer", response.Headers.GetValues("Referrer-Policy").Single());
        Assert.Contains("default-src 'none'", response.Headers.GetValues("Content-Security-Policy").Single(), StringComparison.Ordinal);
        // Until 2026-12-06 (later) JSON answers said nothing, and a caching proxy served them to callers without a key.
        Assert.True(stream ? response.Headers.CacheControl!.NoCache : response.Headers.CacheControl!.NoStore, response.Headers.CacheControl?.ToString());
        if (stream)
        {
            Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
            Assert.Contains("[DONE]", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("/swagger/index.html")]
    [InlineData("/swagger/v1/swagger.json")]
    public async Task SwaggerUiAndTheDocument_CarryTheSecurityHeaders_ButNotTheContentPolicyThatWouldBreakTheUi(string path)
    {
        using var response = await _gateway.Client.GetAsync(path);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("nosniff", response.Headers.GetValues("X-Content-Type-Options").Single());
        Assert.Equal("DENY", response.Headers.GetValues("X-Frame-Options").Single());
        Assert.Equal("no-referrer", response.Headers.GetValues("Referrer-Policy").Single());
        Assert.False(response.Headers.Contains("Content-Security-Policy"));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task BodyOverMaxRequestBytes_Is413_WithTheOpenAiError(bool chunked)
    {
        var json = Json.ChatRequest("echo", new string('x', 8000), stream: false);
        HttpContent content = chunked ? new StreamContent(await json.ReadAsStreamAsync()) : new ByteArrayContent(await json.ReadAsByteArrayAsync());
        content.Headers.ContentType = new("application/json");
        if (chunked)
        {
            content.Headers.ContentLength = null;
        }

        using var response = await _gateway.Client.SendAsync(TestKeys.Request(HttpMethod.Post, "/v1/chat/completions", TestKeys.Client, content));

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.NotNull((await Json.ReadAsync(response))["error"]!["message"]);
        Assert.Equal(HttpStatusCode.OK, (await _gateway.Client.GetAsync("/healthz")).StatusCode);
    }

    [Fact]
    public async Task DeeplyNestedJson_Is400()
    {
        var body = ChatRequestWithArraysNested(200);

        using var response = await _gateway.Client.SendAsync(TestKeys.Request(HttpMethod.Post, "/v1/chat/completions", TestKeys.Client, Json.Body(body)));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("depth", (await Json.ReadAsync(response))["error"]!["message"]!.GetValue<string>(), StringComparison.OrdinalIgnoreCase);
    }

    [Theory]
    [InlineData("/v1/chat/completions")]
    [InlineData("/api/flows")]
    public async Task JsonOneLevelDeeperThanTheLimit_Is400OnEverySurface(string path)
    {
        // The outer object is the first level, so arrays opened MaxJsonDepth times inside it go one level too deep.
        var body = ChatRequestWithArraysNested(LimitsOptions.MaxJsonDepth);

        using var response = await _gateway.Client.SendAsync(TestKeys.Request(HttpMethod.Post, path, TestKeys.Admin, Json.Body(body)));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        // Valid JSON, too deep: both surfaces say so, and neither calls it "not valid JSON" (/api did until 2026-12-06).
        var text = await response.Content.ReadAsStringAsync();
        Assert.Contains($"nests past the maximum depth of {LimitsOptions.MaxJsonDepth} levels", text, StringComparison.Ordinal);
        Assert.DoesNotContain("not valid JSON", text, StringComparison.Ordinal);
    }

    /// <summary>
    /// A chunk size past 2^31 is a framing mistake Kestrel reports as a plain IOException (an overflow inside), not as
    /// its BadHttpRequestException: until 2026-12-06 it answered 500 and logged a stack trace as the gateway's failure.
    /// </summary>
    [Theory]
    [InlineData("/v1/chat/completions", "application/json")]
    [InlineData("/api/runs", "application/problem+json")]
    [InlineData("/api/flows", "application/problem+json")]
    public async Task AChunkSizePast2To31_Is400InTheSurfacesShape(string path, string mediaType)
    {
        var answer = await RawHttp.ExchangeAsync(
            _gateway.BaseAddress,
            $"POST {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TestKeys.Admin}\r\nContent-Type: application/json\r\n"
            + "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n80000000\r\n{}\r\n0\r\n\r\n");

        Assert.StartsWith("HTTP/1.1 400 ", answer, StringComparison.Ordinal);
        Assert.Contains($"Content-Type: {mediaType}", answer, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("The request body could not be read: Bad chunk size data.", answer, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/v1/chat/completions")]
    [InlineData("/api/flows")]
    public async Task JsonExactlyAtTheLimit_IsNotRefusedForItsDepth(string path)
    {
        var body = ChatRequestWithArraysNested(LimitsOptions.MaxJsonDepth - 1);

        using var response = await _gateway.Client.SendAsync(TestKeys.Request(HttpMethod.Post, path, TestKeys.Admin, Json.Body(body)));

        // /v1 answers the completion; /api/flows refuses the fields a flow does not have, but not the nesting.
        Assert.DoesNotContain("depth", await response.Content.ReadAsStringAsync(), StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>A valid chat request with one more member: <paramref name="levels"/> arrays, each inside the last.</summary>
    private static string ChatRequestWithArraysNested(int levels) =>
        "{\"model\":\"echo\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"x_nested\":"
        + new string('[', levels) + new string(']', levels) + "}";

    [Fact]
    public async Task GatewayFailure_Is500WithoutExceptionDetails()
    {
        await using var broken = await StartWithFailingRouterAsync();

        using var response = await broken.Client.GetAsync("/v1/models");

        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        var body = await response.Content.ReadAsStringAsync();
        Assert.Contains("The gateway failed to handle the request.", body, StringComparison.Ordinal);
        Assert.DoesNotContain(InternalDetail, body, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GatewayFailure_UnderApi_HasAProblemBodyEvenForAnEventStreamCaller()
    {
        await using var broken = await StartWithFailingRouterAsync();
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/components");
        // What EventSource sends: no problem+json writer accepts it, and the body must not go missing for that.
        request.Headers.Accept.ParseAdd("text/event-stream");

        using var response = await broken.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        var problem = await Json.ReadAsync(response);
        Assert.Equal(500, problem["status"]!.GetValue<int>());
        Assert.Equal("Internal Server Error", problem["title"]!.GetValue<string>());
        Assert.Equal("The gateway failed to handle the request.", problem["detail"]!.GetValue<string>());
        Assert.DoesNotContain(InternalDetail, problem.ToJsonString(), StringComparison.Ordinal);
    }

    /// <summary>A gateway whose model router throws, with a message that must never reach a caller.</summary>
    private static Task<GatewayHost> StartWithFailingRouterAsync() =>
        GatewayHost.StartAsync(GatewayHost.SimulatedSettings(), services =>
            services.AddSingleton<ModelRouter>(_ => throw new InvalidOperationException(InternalDetail)));

    private static HttpRequestMessage Preflight(string origin)
    {
        var request = new HttpRequestMessage(HttpMethod.Options, "/v1/chat/completions");
        request.Headers.Add("Origin", origin);
        request.Headers.Add("Access-Control-Request-Method", "POST");
        request.Headers.Add("Access-Control-Request-Headers", "authorization,content-type");
        return request;
    }
}
