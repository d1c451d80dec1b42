using System.Net;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Security;

/// <summary>Roles, run ownership and the model allowlist on /api (DESIGN §9).</summary>
public sealed class ApiAccessTests : IAsyncLifetime
{
    private const string EchoFlow = """
        {"id":"say","nodes":[{"id":"in","type":"input"},{"id":"llm","type":"llm","model":"echo","prompt":"in"},{"id":"out","type":"output","from":["llm"]}]}
        """;

    private const string LoremRun = """
        {"input":"x","flow":{"nodes":[{"id":"in","type":"input"},{"id":"llm","type":"llm","model":"lorem","prompt":"in","maxTokens":3},{"id":"out","type":"output","from":["llm"]}]}}
        """;

    private GatewayHost _gateway = null!;

    public async Task InitializeAsync() => _gateway = await GatewayHost.StartAsync(GatewayHost.SimulatedSettings().WithStandardKeys());

    public async Task DisposeAsync() => await _gateway.DisposeAsync();

    private Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, string? key, string? body = null) =>
        _gateway.Client.SendAsync(TestKeys.Request(method, path, key, body is null ? null : Json.Body(body)));

    private async Task<string> RunAsync(string key, string body)
    {
        using var response = await SendAsync(HttpMethod.Post, "/api/runs", key, body);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await Json.ReadAsync(response))["runId"]!.GetValue<string>();
    }

    [Fact]
    public async Task WithoutAKey_ApiIs401()
    {
        using var response = await SendAsync(HttpMethod.Get, "/api/flows", key: null);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType!.MediaType);
    }

    /// <summary>
    /// The metrics name every alias and its traffic: a key restricted to <c>echo</c> read them all until 2026-12-06,
    /// though <c>/v1/models</c> and a completion keep the other aliases from it.
    /// </summary>
    [Fact]
    public async Task Metrics_AreForKeysWithEveryModel_NotForARestrictedKey()
    {
        using var restricted = await SendAsync(HttpMethod.Get, "/metrics", TestKeys.EchoOnly);
        Assert.Equal(HttpStatusCode.Forbidden, restricted.StatusCode);
        Assert.Equal("application/problem+json", restricted.Content.Headers.ContentType!.MediaType);
        Assert.DoesNotContain("gen_ai", await restricted.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        using var client = await SendAsync(HttpMethod.Get, "/metrics", TestKeys.Client);
        Assert.Equal(HttpStatusCode.OK, client.StatusCode);
        using var admin = await SendAsync(HttpMethod.Get, "/metrics", TestKeys.Admin);
        Assert.Equal(HttpStatusCode.OK, admin.StatusCode);
        Assert.StartsWith("text/plain", admin.Content.Headers.ContentType!.MediaType, StringComparison.Ordinal);
        using var anonymous = await SendAsync(HttpMethod.Get, "/metrics", key: null);
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
    }

    [Fact]
    public async Task OnlyAdminsWriteFlows_ClientsReadAndRunThem()
    {
        using var byClient = await SendAsync(HttpMethod.Post, "/api/flows", TestKeys.Client, EchoFlow);
        Assert.Equal(HttpStatusCode.Forbidden, byClient.StatusCode);
        Assert.Equal("application/problem+json", byClient.Content.Headers.ContentType!.MediaType);

        using var byAdmin = await SendAsync(HttpMethod.Post, "/api/flows", TestKeys.Admin, EchoFlow);
        Assert.Equal(HttpStatusCode.Created, byAdmin.StatusCode);

        using var read = await SendAsync(HttpMethod.Get, "/api/flows/say", TestKeys.Client);
        Assert.Equal(HttpStatusCode.OK, read.StatusCode);
        using var run = await SendAsync(HttpMethod.Post, "/api/flows/say/run", TestKeys.Client, """{"input":"hi there"}""");
        Assert.Equal("hi there", (await Json.ReadAsync(run))["outputs"]!["llm"]!.GetValue<string>());

        using var delete = await SendAsync(HttpMethod.Delete, "/api/flows/say", TestKeys.Client);
        Assert.Equal(HttpStatusCode.Forbidden, delete.StatusCode);
        using var put = await SendAsync(HttpMethod.Put, "/api/flows/say", TestKeys.Client, EchoFlow);
        Assert.Equal(HttpStatusCode.Forbidden, put.StatusCode);
    }

    [Fact]
    public async Task ARun_IsVisibleOnlyToTheKeyThatStartedItAndToAdmins()
    {
        var runId = await RunAsync(TestKeys.Client, LoremRun);

        using (var own = await SendAsync(HttpMethod.Get, $"/api/runs/{runId}", TestKeys.Client))
        {
            Assert.Equal(HttpStatusCode.OK, own.StatusCode);
        }

        using (var admin = await SendAsync(HttpMethod.Get, $"/api/runs/{runId}", TestKeys.Admin))
        {
            Assert.Equal(HttpStatusCode.OK, admin.StatusCode);
        }

        using var other = await SendAsync(HttpMethod.Get, $"/api/runs/{runId}", TestKeys.EchoOnly);
        Assert.Equal(HttpStatusCode.NotFound, other.StatusCode);
        using var otherWatch = await SendAsync(HttpMethod.Get, $"/api/runs/{runId}/events", TestKeys.EchoOnly);
        Assert.Equal(HttpStatusCode.NotFound, otherWatch.StatusCode);
        using var otherCancel = await SendAsync(HttpMethod.Post, $"/api/runs/{runId}/cancel", TestKeys.EchoOnly);
        Assert.Equal(HttpStatusCode.NotFound, otherCancel.StatusCode);
        using var ownWatch = await SendAsync(HttpMethod.Get, $"/api/runs/{runId}/events", TestKeys.Client);
        Assert.Equal(HttpStatusCode.OK, ownWatch.StatusCode);
        Assert.Contains("event: run.completed", await ownWatch.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        async Task<List<string>> ListAsync(string key)
        {
            using var list = await SendAsync(HttpMethod.Get, "/api/runs", key);
            return [.. (await Json.ReadAsync(list)).AsArray().Select(r => r!["runId"]!.GetValue<string>())];
        }

        Assert.Contains(runId, await ListAsync(TestKeys.Client));
        Assert.Contains(runId, await ListAsync(TestKeys.Admin));
        Assert.DoesNotContain(runId, await ListAsync(TestKeys.EchoOnly));
    }

    [Fact]
    public async Task AFlowUsingAModelTheKeyMayNotUse_Is403()
    {
        using var response = await SendAsync(HttpMethod.Post, "/api/runs", TestKeys.EchoOnly, LoremRun);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        var problem = await Json.ReadAsync(response);
        Assert.Equal("model_not_allowed", problem["code"]!.GetValue<string>());
        Assert.Contains("lorem", problem["detail"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.False(response.Headers.Contains("X-Run-Id"), "no run should have started");
    }

    [Theory]
    [InlineData("""{"input":"x","flow":{"nodes":[{"id":"in","type":"input"},{"id":"llm","type":"llm","model":"no-such-alias","prompt":"in"},{"id":"out","type":"output","from":["llm"]}]}}""", "no-such-alias")]
    [InlineData("""{"input":"x","flow":{"nodes":[{"id":"in","type":"input"},{"id":"llm","type":"llm","model":"echo","prompt":"in"},{"id":"out","type":"output","from":["llm"]}]},"tweaks":{"llm":{"model":"no-such-alias"}}}""", "no-such-alias")]
    // Two nodes with one id, the first tweaked: the tweak reaches only the first, so the second's model still counts.
    [InlineData("""{"input":"x","flow":{"nodes":[{"id":"in","type":"input"},{"id":"x","type":"llm","model":"echo","prompt":"in"},{"id":"x","type":"llm","model":"zz","prompt":"in"},{"id":"out","type":"output","from":["x"]}]},"tweaks":{"x":{"model":"echo"}}}""", "zz")]
    public async Task AModelOutsideTheKeysList_Is403_BeforeAnyValidationNamesTheAliasesThereAre(string body, string model)
    {
        using var response = await SendAsync(HttpMethod.Post, "/api/runs", TestKeys.EchoOnly, body);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        var problem = await Json.ReadAsync(response);
        Assert.Equal("model_not_allowed", problem["code"]!.GetValue<string>());
        Assert.Contains(model, problem["detail"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.DoesNotContain("lorem", problem.ToJsonString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AForbiddenModelTweakedToAnAllowedOne_Runs()
    {
        using var response = await SendAsync(HttpMethod.Post, "/api/runs", TestKeys.EchoOnly, """
            {"input":"tweaked","flow":{"nodes":[{"id":"in","type":"input"},{"id":"llm","type":"llm","model":"lorem","prompt":"in"},{"id":"out","type":"output","from":["llm"]}]},
             "tweaks":{"llm":{"model":"echo"}}}
            """);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("tweaked", (await Json.ReadAsync(response))["outputs"]!["llm"]!.GetValue<string>());
    }

    [Fact]
    public async Task TheComponentCatalog_OffersARestrictedKeyItsModelsAlone()
    {
        using var restricted = await SendAsync(HttpMethod.Get, "/api/components", TestKeys.EchoOnly);
        using var open = await SendAsync(HttpMethod.Get, "/api/components", TestKeys.Client);

        Assert.DoesNotContain("lorem", await restricted.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Contains("\"echo\"", await restricted.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Contains("\"lorem\"", await open.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnAllowedModel_Runs()
    {
        using var response = await SendAsync(HttpMethod.Post, "/api/runs", TestKeys.EchoOnly, """
            {"input":"fine","flow":{"nodes":[{"id":"in","type":"input"},{"id":"llm","type":"llm","model":"echo","prompt":"in"},{"id":"out","type":"output","from":["llm"]}]}}
            """);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("completed", (await Json.ReadAsync(response))["status"]!.GetValue<string>());
    }
}
