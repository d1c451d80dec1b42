using System.Net;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Hosting;

/// <summary>
/// HEAD on every GET endpoint, as <c>curl -I</c>, uptime monitors and load balancers send it: GET's status and headers,
/// no body. Until 2026-12-07 every GET endpoint but the probes answered HEAD with 405.
/// </summary>
public sealed class HeadRequestTests : IAsyncLifetime
{
    private const string Flow = """
        {"id":"head-flow","nodes":[{"id":"in","type":"input"},{"id":"say","type":"llm","model":"echo","prompt":"in"},
          {"id":"out","type":"output","from":["say"]}]}
        """;

    private GatewayHost _gateway = null!;

    public async Task InitializeAsync() => _gateway = await GatewayHost.StartAsync(GatewayHost.SimulatedSettings().WithStandardKeys());

    public async Task DisposeAsync() => await _gateway.DisposeAsync();

    [Theory]
    [InlineData("/healthz", null, HttpStatusCode.OK)]
    [InlineData("/readyz", null, HttpStatusCode.OK)]
    [InlineData("/v1/models", TestKeys.Client, HttpStatusCode.OK)]
    [InlineData("/v1/models/echo", TestKeys.Client, HttpStatusCode.OK)]
    [InlineData("/v1/models/lorem", TestKeys.EchoOnly, HttpStatusCode.Forbidden)]
    [InlineData("/v1/models/nothing-such", TestKeys.Client, HttpStatusCode.NotFound)]
    [InlineData("/v1/models", null, HttpStatusCode.Unauthorized)]
    [InlineData("/api/components", TestKeys.Client, HttpStatusCode.OK)]
    [InlineData("/api/flows", TestKeys.Client, HttpStatusCode.OK)]
    [InlineData("/api/flows", null, HttpStatusCode.Unauthorized)]
    [InlineData("/api/flows/nothing-such", TestKeys.Client, HttpStatusCode.NotFound)]
    [InlineData("/api/runs", TestKeys.Admin, HttpStatusCode.OK)]
    [InlineData("/api/runs?limit=0", TestKeys.Admin, HttpStatusCode.BadRequest)]
    [InlineData("/api/runs/run-missing", TestKeys.Client, HttpStatusCode.NotFound)]
    [InlineData("/api/runs/run-missing/events", TestKeys.Client, HttpStatusCode.NotFound)]
    [InlineData("/api/usage", TestKeys.Admin, HttpStatusCode.OK)]
    [InlineData("/metrics", TestKeys.Admin, HttpStatusCode.OK)]
    [InlineData("/metrics", TestKeys.EchoOnly, HttpStatusCode.Forbidden)]
    public async Task Head_AnswersAsGetDoes_WithoutABody(string path, string? key, HttpStatusCode status)
    {
        using var head = await AssertHeadAnswersAsGetAsync(path, key);

        Assert.Equal(status, head.StatusCode);
    }

    [Fact]
    public async Task Head_OnAFlow_CarriesItsTag_AndIsNotModifiedForTheCallerWhoHasIt()
    {
        using var created = await _gateway.Client.SendAsync(TestKeys.Request(HttpMethod.Post, "/api/flows", TestKeys.Admin, Json.Body(Flow)));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);

        using var head = await AssertHeadAnswersAsGetAsync("/api/flows/head-flow", TestKeys.Client);
        using var request = TestKeys.Request(HttpMethod.Head, "/api/flows/head-flow", TestKeys.Client);
        request.Headers.IfNoneMatch.Add(head.Headers.ETag!);
        using var unchanged = await _gateway.Client.SendAsync(request);

        Assert.Equal(created.Headers.ETag, head.Headers.ETag);
        Assert.Equal(HttpStatusCode.NotModified, unchanged.StatusCode);
    }

    [Fact]
    public async Task Head_OnARunAndOnItsEvents_AnswersAsGetDoes_WithItsId()
    {
        using var started = await _gateway.Client.SendAsync(TestKeys.Request(
            HttpMethod.Post, "/api/runs", TestKeys.Client, Json.Body("""{"flow":""" + Flow + ""","input":"hello"}""")));
        var runId = started.Headers.GetValues("X-Run-Id").Single();
        var last = await LastEventIdAsync(runId);

        using var record = await AssertHeadAnswersAsGetAsync($"/api/runs/{runId}", TestKeys.Client);
        using var events = await AssertHeadAnswersAsGetAsync($"/api/runs/{runId}/events", TestKeys.Client);
        using var allSent = await AssertHeadAnswersAsGetAsync($"/api/runs/{runId}/events?after={last}", TestKeys.Client);
        using var otherKey = await AssertHeadAnswersAsGetAsync($"/api/runs/{runId}/events", TestKeys.EchoOnly);

        Assert.Equal(runId, record.Headers.GetValues("X-Run-Id").Single());
        Assert.Equal(HttpStatusCode.OK, events.StatusCode);
        Assert.Equal("text/event-stream", events.Content.Headers.ContentType!.MediaType);
        Assert.Equal(runId, events.Headers.GetValues("X-Run-Id").Single());
        Assert.Equal(HttpStatusCode.NoContent, allSent.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, otherKey.StatusCode);
    }

    [Fact]
    public async Task OtherMethods_AreStill405_WithHeadAmongTheAllowedOnes()
    {
        using var runs = await _gateway.Client.SendAsync(TestKeys.Request(HttpMethod.Delete, "/api/runs", TestKeys.Admin));
        using var models = await _gateway.Client.SendAsync(TestKeys.Request(HttpMethod.Put, "/v1/models", TestKeys.Client));
        using var completions = await _gateway.Client.SendAsync(TestKeys.Request(HttpMethod.Head, "/v1/chat/completions", TestKeys.Client));

        Assert.Equal(HttpStatusCode.MethodNotAllowed, runs.StatusCode);
        Assert.Equal(["GET", "HEAD", "POST"], runs.Content.Headers.Allow.Order(StringComparer.Ordinal));
        Assert.Equal(HttpStatusCode.MethodNotAllowed, models.StatusCode);
        Assert.Equal(["GET", "HEAD"], models.Content.Headers.Allow.Order(StringComparer.Ordinal));
        Assert.Equal(HttpStatusCode.MethodNotAllowed, completions.StatusCode); // a POST endpoint: HEAD is a GET's alone
        Assert.Equal(["POST"], completions.Content.Headers.Allow);
    }

    private async Task<long> LastEventIdAsync(string runId)
    {
        using var watch = await _gateway.Client.SendAsync(TestKeys.Request(HttpMethod.Get, $"/api/runs/{runId}/events", TestKeys.Client));
        return (await RunClient.ReadAllAsync(watch))[^1].Id;
    }

    /// <summary>
    /// Sends <paramref name="path"/> as GET, then as HEAD, and checks that they agree: status, every header (those that
    /// differ per request or per framing aside), a <c>Content-Length</c> only where it is GET's body's length, no body.
    /// </summary>
    private async Task<HttpResponseMessage> AssertHeadAnswersAsGetAsync(string path, string? key)
    {
        using var get = await _gateway.Client.SendAsync(TestKeys.Request(HttpMethod.Get, path, key));
        var body = await get.Content.ReadAsByteArrayAsync();
        // Read whole, its body included: a HEAD the gateway answered with a body would show here, or break the next exchange.
        var head = await _gateway.Client.SendAsync(TestKeys.Request(HttpMethod.Head, path, key));

        Assert.Equal(get.StatusCode, head.StatusCode);
        Assert.Equal(Headers(get), Headers(head));
        Assert.Equal(get.Headers.Contains("x-request-id"), head.Headers.Contains("x-request-id"));
        if (head.Content.Headers.ContentLength is { } length)
        {
            Assert.Equal(body.Length, length);
        }

        Assert.Empty(await head.Content.ReadAsByteArrayAsync());
        return head;
    }

    private static readonly HashSet<string> PerRequest = new(StringComparer.OrdinalIgnoreCase)
    {
        "Date", "x-request-id", "Transfer-Encoding", "Content-Length",
    };

    private static List<string> Headers(HttpResponseMessage response) =>
    [
        .. response.Headers.Concat(response.Content.Headers)
            .Where(header => !PerRequest.Contains(header.Key))
            .Select(header => $"{header.Key.ToLowerInvariant()}: {string.Join(", ", header.Value)}")
            .Order(StringComparer.Ordinal),
    ];
}
