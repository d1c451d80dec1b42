using System.Net;
using Gateway.Security;
using Gateway.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.Tests.Security;

/// <summary>
/// The mechanism as /api will use it, on stand-in endpoints: a policy per group, the caller as a parameter,
/// ProblemDetails for 401, 403 and 429.
/// </summary>
public sealed class ApiSurfaceTests : IAsyncLifetime
{
    private const string Limited = "gw-test-api-limited-42aa";
    private readonly FakeTimeProvider _clock = new();
    private GatewayHost _gateway = null!;

    public async Task InitializeAsync()
    {
        var settings = GatewayHost.SimulatedSettings().WithStandardKeys().WithKey(3, "limited", Limited, requestsPerMinute: 1);
        settings["Gateway:Limits:MaxRequestBytes"] = "4096";
        _gateway = await GatewayHost.StartAsync(settings, services => services.AddSingleton<TimeProvider>(_clock), mapTestEndpoints: app =>
        {
            var flows = app.MapGroup("/api/test-flows").RequireAuthorization(GatewayPolicies.Client);
            flows.MapGet("/", (CallerIdentity caller) => TypedResults.Ok(new { caller.KeyName, caller.Role }));
            flows.MapPost("/", (TestFlow flow) => TypedResults.Ok(flow));
            app.MapGroup("/api/test-admin").RequireAuthorization(GatewayPolicies.Admin).MapPost("/", () => TypedResults.NoContent());
        });
    }

    public async Task DisposeAsync() => await _gateway.DisposeAsync();

    [Theory]
    [InlineData(TestKeys.Client, "app", "client")]
    [InlineData(TestKeys.Admin, "ops", "admin")]
    public async Task ClientPolicy_AdmitsEveryKey_AndHandsTheCallerToTheHandler(string key, string name, string role)
    {
        using var response = await _gateway.Client.SendAsync(TestKeys.Request(HttpMethod.Get, "/api/test-flows/", key));

        var json = await Json.ReadAsync(response);
        Assert.Equal(name, json["keyName"]!.GetValue<string>());
        Assert.Equal(role, json["role"]!.GetValue<string>());
    }

    [Fact]
    public async Task AdminPolicy_ForbidsAClient_WithProblemDetails()
    {
        using var client = await _gateway.Client.SendAsync(TestKeys.Request(HttpMethod.Post, "/api/test-admin/", TestKeys.Client));
        using var admin = await _gateway.Client.SendAsync(TestKeys.Request(HttpMethod.Post, "/api/test-admin/", TestKeys.Admin));

        Assert.Equal(HttpStatusCode.Forbidden, client.StatusCode);
        Assert.Equal("application/problem+json", client.Content.Headers.ContentType?.MediaType);
        Assert.Equal("permission_denied", (await Json.ReadAsync(client))["code"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.NoContent, admin.StatusCode);
    }

    [Fact]
    public async Task MissingKey_Is401ProblemDetails_EvenWhenTheCallerAsksForAnEventStream()
    {
        using var request = TestKeys.Request(HttpMethod.Get, "/api/test-flows/");
        request.Headers.Accept.ParseAdd("text/event-stream");
        using var response = await _gateway.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        var json = await Json.ReadAsync(response);
        Assert.Equal(401, json["status"]!.GetValue<int>());
        Assert.Equal("invalid_api_key", json["code"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("{\"id\":\"x\",\"nodes\":[\"", 413)]
    [InlineData("{\"id\":\"x\",\"nodes\":", 400)]
    [InlineData("{\"id\":5}", 400)]
    public async Task BoundBodies_TooLargeOrMalformedOrTooDeep_Are4xxProblemDetails(string prefix, int expected)
    {
        var body = expected == 413 ? prefix + new string('a', 8000) + "\"]}"
            : prefix.EndsWith(':') ? prefix + new string('[', 100) + new string(']', 100) + "}" : prefix;

        using var response = await _gateway.Client.SendAsync(TestKeys.Request(HttpMethod.Post, "/api/test-flows/", TestKeys.Client, Json.Body(body)));

        Assert.Equal(expected, (int)response.StatusCode);
        Assert.Equal(expected, (await Json.ReadAsync(response))["status"]!.GetValue<int>());
    }

    [Fact]
    public async Task OverRequestsPerMinute_Is429ProblemDetailsWithRetryAfter()
    {
        (await _gateway.Client.SendAsync(TestKeys.Request(HttpMethod.Get, "/api/test-flows/", Limited))).Dispose();

        using var response = await _gateway.Client.SendAsync(TestKeys.Request(HttpMethod.Get, "/api/test-flows/", Limited));

        Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(60), response.Headers.RetryAfter?.Delta);
        var json = await Json.ReadAsync(response);
        Assert.Equal(429, json["status"]!.GetValue<int>());
        Assert.Equal("rate_limit_exceeded", json["code"]!.GetValue<string>());
    }
}

public sealed record TestFlow(string Id, List<string>? Nodes);
