using System.Net;
using System.Text.Json.Nodes;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Runs;

/// <summary>Cost on node and run records, and GET /api/usage summing the store per model or per key.</summary>
public sealed class UsageApiTests : IAsyncLifetime
{
    // Prices chosen for round numbers: a dollar per input token, two per output token.
    private const string TwoNodes = """
        {"input":"one two three","flow":{"nodes":[{"id":"in","type":"input"},
          {"id":"a","type":"llm","model":"echo","prompt":"in"},{"id":"b","type":"llm","model":"echo","prompt":"in"},
          {"id":"out","type":"output","from":["a","b"]}]}}
        """;

    private GatewayHost _gateway = null!;

    public async Task InitializeAsync()
    {
        var settings = GatewayHost.SimulatedSettings().WithStandardKeys();
        settings["Gateway:Models:echo:Pricing:InputPerMillion"] = "1000000";
        settings["Gateway:Models:echo:Pricing:OutputPerMillion"] = "2000000";
        _gateway = await GatewayHost.StartAsync(settings);
    }

    public async Task DisposeAsync() => await _gateway.DisposeAsync();

    private async Task<JsonNode> SendAsync(string key, HttpMethod method, string path, string? body = null, HttpStatusCode expected = HttpStatusCode.OK)
    {
        using var response = await _gateway.Client.SendAsync(TestKeys.Request(method, path, key, body is null ? null : Json.Body(body)));
        Assert.Equal(expected, response.StatusCode);
        return await Json.ReadAsync(response);
    }

    [Fact]
    public async Task NodeAndRunRecords_CarryTheCostOfTheirTokens()
    {
        var run = await SendAsync(TestKeys.Client, HttpMethod.Post, "/api/runs", TwoNodes);

        // echo: 3 input words and 3 output words per node → 3 × $1 + 3 × $2 = $9.
        Assert.Equal(9, run["nodes"]!["a"]!["usage"]!["costUsd"]!.GetValue<double>(), 6);
        Assert.Equal(18, run["usage"]!["costUsd"]!.GetValue<double>(), 6);
        Assert.Equal(6, run["usage"]!["inputTokens"]!.GetValue<long>());
    }

    [Fact]
    public async Task Usage_SumsPerModelAndPerKey_AndAClientSeesOnlyItsOwn()
    {
        await SendAsync(TestKeys.Client, HttpMethod.Post, "/api/runs", TwoNodes);
        await SendAsync(TestKeys.Admin, HttpMethod.Post, "/api/runs", TwoNodes);

        var byModel = await SendAsync(TestKeys.Admin, HttpMethod.Get, "/api/usage?groupBy=model");
        var echo = Assert.Single(byModel["groups"]!.AsArray())!;
        Assert.Equal("echo", echo["key"]!.GetValue<string>());
        Assert.Equal(2, echo["runs"]!.GetValue<int>());
        Assert.Equal(4, echo["calls"]!.GetValue<int>());
        Assert.Equal(12, echo["outputTokens"]!.GetValue<long>());
        Assert.Equal(36, echo["costUsd"]!.GetValue<double>(), 6);

        var byKey = await SendAsync(TestKeys.Admin, HttpMethod.Get, "/api/usage?groupBy=key");
        Assert.Equal(["app", "ops"], byKey["groups"]!.AsArray().Select(g => g!["key"]!.GetValue<string>()));

        var own = await SendAsync(TestKeys.Client, HttpMethod.Get, "/api/usage?groupBy=key");
        Assert.Equal("app", Assert.Single(own["groups"]!.AsArray())!["key"]!.GetValue<string>());

        // Empty values, as a form sends them, are the defaults: the last day, by model.
        var asAFormSendsIt = await SendAsync(TestKeys.Admin, HttpMethod.Get, "/api/usage?from=&to=&groupBy=");
        Assert.Equal("echo", Assert.Single(asAFormSendsIt["groups"]!.AsArray())!["key"]!.GetValue<string>());
    }

    [Fact]
    public async Task AWindowWithoutRuns_IsEmpty()
    {
        await SendAsync(TestKeys.Admin, HttpMethod.Post, "/api/runs", TwoNodes);

        var report = await SendAsync(TestKeys.Admin, HttpMethod.Get, "/api/usage?from=2020-01-01T00:00:00Z&to=2020-01-02T00:00:00Z");

        Assert.Empty(report["groups"]!.AsArray());
        Assert.Equal("model", report["groupBy"]!.GetValue<string>());
    }

    [Fact]
    public async Task AWindowAtTheCalendarsStart_GivenWithANegativeOffset_IsAnsweredInUtc()
    {
        var report = await SendAsync(TestKeys.Admin, HttpMethod.Get, "/api/usage?to=0001-01-01T20:00:00-05:00");

        Assert.Equal("0001-01-01T01:00:00+00:00", report["from"]!.GetValue<string>());
        Assert.Equal("0001-01-02T01:00:00+00:00", report["to"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("/api/usage?groupBy=color", "groupBy")]
    [InlineData("/api/usage?from=yesterday", "from")]
    [InlineData("/api/usage?from=12/05/2026", "from")]
    [InlineData("/api/usage?to=Dec%205%202026", "to")]
    [InlineData("/api/usage?from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z", "from")]
    [InlineData("/api/usage?to=0001-01-01T00:00:00Z", "to")] // the caller sent no from: until 2026-12-06 the 400 blamed it
    [InlineData("/api/usage?from=2026-01-01T00:00:00Z%00", "from")] // the runtime's parser forgives a trailing NUL
    [InlineData("/api/usage?to=2026-01-01T00:00:00Z%0A", "to")]
    [InlineData("/api/usage?from=2026-01-01T00:00:00Z%20", "from")] // and any white space after a date
    [InlineData("/api/usage?from=2026-01-01%C2%A0", "from")]
    [InlineData("/api/usage?to=2026-01-01T00:00:00Z%C2%85", "to")]
    [InlineData("/api/usage?to=2026-01-01%E3%80%80", "to")]
    public async Task BadQueries_Are400NamingTheParameter(string path, string parameter)
    {
        var problem = await SendAsync(TestKeys.Admin, HttpMethod.Get, path, expected: HttpStatusCode.BadRequest);

        Assert.NotNull(problem["errors"]![parameter]);
    }
}
