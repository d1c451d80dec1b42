using System.Net;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Security;

public sealed class AuthenticationTests : IAsyncLifetime
{
    private GatewayHost _gateway = null!;

    public async Task InitializeAsync() =>
        _gateway = await GatewayHost.StartAsync(GatewayHost.SimulatedSettings().WithStandardKeys());

    public async Task DisposeAsync() => await _gateway.DisposeAsync();

    [Theory]
    [InlineData("/v1/models")]
    [InlineData("/v1/chat/completions")]
    public async Task NoKey_Is401WithOpenAiErrorAndBearerChallenge(string path)
    {
        var method = path.EndsWith("models", StringComparison.Ordinal) ? HttpMethod.Get : HttpMethod.Post;
        using var response = await _gateway.Client.SendAsync(TestKeys.Request(method, path, content: Json.ChatRequest("echo", "hi", stream: false)));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("Bearer", response.Headers.WwwAuthenticate.Single().Scheme);
        var error = (await Json.ReadAsync(response))["error"]!;
        Assert.Equal("invalid_api_key", error["code"]!.GetValue<string>());
        Assert.Contains("Missing API key", error["message"]!.GetValue<string>(), StringComparison.Ordinal);
        // What the OpenAI SDKs report as the failed request's request_id, refused before any endpoint ran.
        Assert.Matches("^[0-9a-f]{32}-[0-9a-f]{16}$", response.Headers.GetValues("x-request-id").Single());
    }

    [Theory]
    [InlineData("Authorization")]
    [InlineData("x-api-key")]
    public async Task TheRightKeySentTwice_Is401_SayingToSendItOnce(string header)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = Json.ChatRequest("echo", "hi", stream: false) };
        var value = header == "Authorization" ? $"Bearer {TestKeys.Client}" : TestKeys.Client;
        request.Headers.TryAddWithoutValidation(header, [value, value]);

        using var response = await _gateway.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        var message = (await Json.ReadAsync(response))["error"]!["message"]!.GetValue<string>();
        Assert.Equal("Send the API key once: this request carries several Authorization or x-api-key values.", message);
    }

    [Theory]
    [InlineData(true, HttpStatusCode.OK)]
    [InlineData(false, HttpStatusCode.Unauthorized)]
    public async Task BothHeaders_TheAuthorizationKeyAloneIsJudged(bool rightInAuthorization, HttpStatusCode expected)
    {
        const string wrong = "gw-wrong-key-2718281828";
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = Json.ChatRequest("echo", "hi", stream: false) };
        request.Headers.TryAddWithoutValidation("Authorization", $"Bearer {(rightInAuthorization ? TestKeys.Client : wrong)}");
        request.Headers.TryAddWithoutValidation("x-api-key", rightInAuthorization ? wrong : TestKeys.Client);

        using var response = await _gateway.Client.SendAsync(request);

        Assert.Equal(expected, response.StatusCode);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task WrongKey_Is401AndNeverQuotesTheKey(bool asApiKeyHeader)
    {
        const string wrong = "gw-wrong-key-3141592653";
        using var response = await _gateway.Client.SendAsync(
            TestKeys.Request(HttpMethod.Post, "/v1/chat/completions", wrong, Json.ChatRequest("echo", "hi", stream: false), asApiKeyHeader));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        var body = await response.Content.ReadAsStringAsync();
        Assert.Contains("Invalid API key", body, StringComparison.Ordinal);
        Assert.DoesNotContain(wrong, body, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(TestKeys.Admin, false)]
    [InlineData(TestKeys.Client, false)]
    [InlineData(TestKeys.Client, true)]
    public async Task ValidKey_BearerOrHeader_IsServed(string key, bool asApiKeyHeader)
    {
        using var response = await _gateway.Client.SendAsync(
            TestKeys.Request(HttpMethod.Post, "/v1/chat/completions", key, Json.ChatRequest("echo", "hello there", stream: false), asApiKeyHeader));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("hello there", (await Json.ReadAsync(response))["choices"]![0]!["message"]!["content"]!.GetValue<string>());
    }

    [Fact]
    public async Task BearerScheme_IsCaseInsensitive()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/v1/models");
        request.Headers.TryAddWithoutValidation("Authorization", "bearer " + TestKeys.Client);

        using var response = await _gateway.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task KeyUnderAnotherScheme_Is401()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/v1/models");
        request.Headers.TryAddWithoutValidation("Authorization", "Basic " + TestKeys.Client);

        using var response = await _gateway.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Theory]
    [InlineData("/healthz")]
    [InlineData("/readyz")]
    public async Task Probes_AreAnonymous(string path)
    {
        using var response = await _gateway.Client.GetAsync(path);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task UnknownPath_WithoutKey_Is401_WithKey_Is404()
    {
        using var anonymous = await _gateway.Client.GetAsync("/api/secret-things");
        using var authenticated = await _gateway.Client.SendAsync(TestKeys.Request(HttpMethod.Get, "/api/secret-things", TestKeys.Client));

        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Equal("application/problem+json", anonymous.Content.Headers.ContentType?.MediaType);
        Assert.Equal(HttpStatusCode.NotFound, authenticated.StatusCode);
    }

    [Fact]
    public async Task RestrictedKey_OtherModel_Is403ModelNotAllowed()
    {
        using var response = await _gateway.Client.SendAsync(
            TestKeys.Request(HttpMethod.Post, "/v1/chat/completions", TestKeys.EchoOnly, Json.ChatRequest("lorem", "hi", stream: true)));

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        var error = (await Json.ReadAsync(response))["error"]!;
        Assert.Equal("model_not_allowed", error["code"]!.GetValue<string>());
        Assert.Equal("model", error["param"]!.GetValue<string>());
    }

    [Fact]
    public async Task RestrictedKey_UnknownModel_Is403_SoItLearnsNothingAboutOtherAliases()
    {
        using var response = await _gateway.Client.SendAsync(
            TestKeys.Request(HttpMethod.Post, "/v1/chat/completions", TestKeys.EchoOnly, Json.ChatRequest("no-such-model", "hi", stream: false)));

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
    }

    [Fact]
    public async Task UnrestrictedKey_UnknownModel_Is404()
    {
        using var response = await _gateway.Client.SendAsync(
            TestKeys.Request(HttpMethod.Post, "/v1/chat/completions", TestKeys.Client, Json.ChatRequest("no-such-model", "hi", stream: false)));

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Fact]
    public async Task RestrictedKey_AllowedModel_Streams()
    {
        using var response = await _gateway.Client.SendAsync(
            TestKeys.Request(HttpMethod.Post, "/v1/chat/completions", TestKeys.EchoOnly, Json.ChatRequest("echo", "one two", stream: true)));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("[DONE]", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(TestKeys.EchoOnly, new[] { "echo" })]
    [InlineData(TestKeys.Client, new[] { "echo", "lorem" })]
    public async Task Models_ListsOnlyWhatTheKeyMayUse(string key, string[] expected)
    {
        using var response = await _gateway.Client.SendAsync(TestKeys.Request(HttpMethod.Get, "/v1/models", key));

        var ids = (await Json.ReadAsync(response))["data"]!.AsArray().Select(model => model!["id"]!.GetValue<string>()).Order();
        Assert.Equal(expected, ids);
    }
}

public sealed class AnonymousLoopbackTests
{
    [Fact]
    public async Task NoKeysConfigured_OnLoopback_ServesAnyone_IgnoringTheKeySent()
    {
        await using var gateway = await GatewayHost.StartAsync(GatewayHost.SimulatedSettings());

        using var withKey = await gateway.Client.SendAsync(
            TestKeys.Request(HttpMethod.Post, "/v1/chat/completions", "sk-whatever-the-sdk-sends", Json.ChatRequest("echo", "hi", stream: false)));
        using var withoutKey = await gateway.Client.GetAsync("/v1/models");

        Assert.Equal(HttpStatusCode.OK, withKey.StatusCode);
        Assert.Equal(HttpStatusCode.OK, withoutKey.StatusCode);
    }

    [Theory]
    [InlineData("X-Forwarded-For", "203.0.113.9")]
    [InlineData("X-Forwarded-For", "127.0.0.1, 203.0.113.9")]
    [InlineData("X-Forwarded-For", "unknown")]
    [InlineData("X-Real-IP", "198.51.100.7")]
    [InlineData("Forwarded", "for=127.0.0.1, for=\"[2001:db8::17]:4711\";proto=https")]
    public async Task NoKeysConfigured_ARequestAProxyForwardedForAnotherMachine_Is401_SayingWhy(string header, string value)
    {
        await using var gateway = await GatewayHost.StartAsync(GatewayHost.SimulatedSettings());
        using var request = new HttpRequestMessage(HttpMethod.Get, "/v1/models");
        request.Headers.TryAddWithoutValidation(header, value);

        using var response = await gateway.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        var error = (await Json.ReadAsync(response))["error"]!;
        Assert.StartsWith("This gateway has no API keys, so it serves only clients on its own machine", error["message"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("X-Forwarded-For", "127.0.0.1")]
    [InlineData("X-Forwarded-For", "::1, 127.0.0.1:51234")]
    [InlineData("X-Real-IP", "127.0.0.1")]
    [InlineData("X-Forwarded-For", "unix:")]
    [InlineData("Forwarded", "for=\"[::1]:4711\";proto=http")]
    public async Task NoKeysConfigured_ARequestAProxyOnThisMachineForwardedForThisMachine_IsServed(string header, string value)
    {
        await using var gateway = await GatewayHost.StartAsync(GatewayHost.SimulatedSettings());
        using var request = new HttpRequestMessage(HttpMethod.Get, "/v1/models");
        request.Headers.TryAddWithoutValidation(header, value);

        using var response = await gateway.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task NoKeysConfigured_BehindTheShippedNginx_OnlyThisMachinesClientsAreServed()
    {
        await using var gateway = await GatewayHost.StartAsync(GatewayHost.SimulatedSettings());
        await using var nginx = await NginxProxy.StartAsync(port => NginxProxy.DeployConfig(gateway.BaseAddress, port));
        using var client = new HttpClient { BaseAddress = nginx.BaseAddress };

        // The test's client is on this machine; nginx appends the address it really came from to what it claimed.
        using var local = await client.GetAsync("/v1/models");
        using var claimed = new HttpRequestMessage(HttpMethod.Get, "/v1/models");
        claimed.Headers.TryAddWithoutValidation("X-Forwarded-For", "203.0.113.9");
        using var forwarded = await client.SendAsync(claimed);

        Assert.Equal(HttpStatusCode.OK, local.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, forwarded.StatusCode);
    }
}
