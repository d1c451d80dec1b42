using System.Net;
using Gateway.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.Tests.Security;

/// <summary>Provider keys, caller keys and their hashes never show up in a response or a log line, even on failures.</summary>
public sealed class SecretsTests : IAsyncLifetime
{
    private readonly CapturingLoggerProvider _logs = new();
    private FakeUpstream _upstream = null!;
    private GatewayHost _gateway = null!;
    private Dictionary<string, string?> _settings = null!;

    public async Task InitializeAsync()
    {
        _upstream = await FakeUpstream.StartAsync();
        _settings = GatewayHost.WithUpstream(GatewayHost.SimulatedSettings(), _upstream).WithStandardKeys();
        // A provider nobody listens on: connection refused.
        GatewayHost.WithDeployments(_settings, "down", "http://127.0.0.1:9/v1");
        _settings["Gateway:Resilience:MaxRetries"] = "0";
        _gateway = await GatewayHost.StartAsync(_settings, _logs.Install);
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _upstream.DisposeAsync();
        _logs.Dispose();
    }

    public static TheoryData<int, string> UpstreamFailures => new()
    {
        { 401, $$$"""{"error":{"message":"Incorrect API key provided: {{{FakeUpstream.ApiKey}}}","code":"invalid_api_key"}}""" },
        { 403, $$$"""{"error":{"message":"Key {{{FakeUpstream.ApiKey}}} is not allowed"}}""" },
        { 400, $$$"""{"error":{"message":"Bad request made with {{{FakeUpstream.ApiKey}}}"}}""" },
        // The code and param a rejection names are passed on too: any text the server chooses, the header it got included.
        { 400, $$$"""{"error":{"message":"bad auth header","code":"leak_Bearer {{{FakeUpstream.ApiKey}}}","param":"{{{FakeUpstream.ApiKey}}}"}}""" },
        { 422, $$$"""{"error":{"message":"unprocessable","code":"{{{FakeUpstream.ApiKey}}}"}}""" },
        { 500, $$$"""{"error":{"message":"Internal error for key {{{FakeUpstream.ApiKey}}}"}}""" },
        { 503, $"upstream down, key={FakeUpstream.ApiKey}" },
    };

    [Theory]
    [MemberData(nameof(UpstreamFailures))]
    public async Task UpstreamFailureQuotingOurKey_NeverLeaks(int status, string errorBody)
    {
        _upstream.DefaultScript = new UpstreamScript { Status = status, ErrorBody = errorBody };

        foreach (var stream in new[] { false, true })
        {
            using var response = await _gateway.Client.SendAsync(
                TestKeys.Request(HttpMethod.Post, "/v1/chat/completions", TestKeys.Client, Json.ChatRequest("up", "hi", stream)));
            Assert.False(response.IsSuccessStatusCode);
            await AssertNoSecretsAsync(response);
        }

        AssertNoSecretsInLogs();
    }

    [Fact]
    public async Task ErrorEventMidStreamQuotingOurKey_NeverLeaks()
    {
        var errorEvent = $$$"""data: {"error":{"message":"stream broke for {{{FakeUpstream.ApiKey}}}","code":"{{{FakeUpstream.ApiKey}}}"}}""" + "\n\n";
        _upstream.DefaultScript = new UpstreamScript { Tokens = ["a", " b", " c"], Inject = (2, errorEvent) };

        using var response = await _gateway.Client.SendAsync(
            TestKeys.Request(HttpMethod.Post, "/v1/chat/completions", TestKeys.Client, Json.ChatRequest("up", "hi", stream: true)));

        await AssertNoSecretsAsync(response);
        AssertNoSecretsInLogs();
    }

    [Fact]
    public async Task UnreachableProvider_NeverLeaksItsKey()
    {
        using var response = await _gateway.Client.SendAsync(
            TestKeys.Request(HttpMethod.Post, "/v1/chat/completions", TestKeys.Admin, Json.ChatRequest("down", "hi", stream: true)));

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        await AssertNoSecretsAsync(response);
        AssertNoSecretsInLogs();
    }

    /// <summary>
    /// Upstream messages are cut at 4,096 characters. A key quoted across the cut must go whole before the cut, or its
    /// first characters would reach the caller: one that sets the prompt's length could read it a prefix at a time.
    /// </summary>
    [Theory]
    [InlineData(10)]
    [InlineData(3)]
    public async Task AKeyQuotedAcrossTheCutOfALongUpstreamMessage_LeavesNoPieceOfItself(int keyCharsBeforeTheCut)
    {
        // The caller sees "The upstream reported an error: " before a mid-stream message; a rejection's message as is.
        // The tail makes each long enough to be cut.
        var padding = new string('q', 4096 - keyCharsBeforeTheCut);
        var tail = " and more" + new string('z', 200);
        var midStream = $$$"""data: {"error":{"message":"{{{padding[32..]}}}{{{FakeUpstream.ApiKey}}}{{{tail}}}"}}""" + "\n\n";
        var rejection = $$$"""{"error":{"message":"{{{padding}}}{{{FakeUpstream.ApiKey}}}{{{tail}}}","code":"{{{padding}}}{{{FakeUpstream.ApiKey}}}"}}""";

        _upstream.Enqueue(new UpstreamScript { Status = 400, ErrorBody = rejection });
        using var rejected = await _gateway.Client.SendAsync(
            TestKeys.Request(HttpMethod.Post, "/v1/chat/completions", TestKeys.Client, Json.ChatRequest("up", "hi", stream: false)));
        _upstream.Enqueue(new UpstreamScript { Tokens = ["a", " b"], Inject = (1, midStream) });
        using var broken = await _gateway.Client.SendAsync(
            TestKeys.Request(HttpMethod.Post, "/v1/chat/completions", TestKeys.Client, Json.ChatRequest("up", "hi", stream: true)));

        Assert.Equal(HttpStatusCode.BadRequest, rejected.StatusCode);
        // Scrubbed, then cut: the cut falls in or after the "***" where the key was.
        var scrubbed = padding + "***" + tail;
        Assert.Equal($"{scrubbed[..4096]}… ({scrubbed.Length - 4096} more characters)", (await Json.ReadAsync(rejected))["error"]!["message"]!.GetValue<string>());
        var seen = await rejected.Content.ReadAsStringAsync() + await broken.Content.ReadAsStringAsync() + _logs.Text;
        Assert.Contains("***", seen, StringComparison.Ordinal);
        // What a cut leaves of the key is its beginning: none of it, from six characters on ("sk-tes…").
        foreach (var beginning in Enumerable.Range(6, FakeUpstream.ApiKey.Length - 5).Select(length => FakeUpstream.ApiKey[..length]))
        {
            Assert.DoesNotContain(beginning, seen, StringComparison.Ordinal);
        }
    }

    /// <summary>
    /// A placeholder key a local server ignores is no secret: until 2026-12-06 the key "x" was cut out of every word of
    /// an upstream's message ("does not e***ist").
    /// </summary>
    [Fact]
    public async Task APlaceholderKey_IsNotScrubbedOutOfTheUpstreamsWords()
    {
        await using var keyed = await KeyedUpstream.StartAsync("x");

        using var response = await keyed.AskAsync(new UpstreamScript { Status = 404, ErrorBody = """{"error":{"message":"The model 'x-large' does not exist.","type":"invalid_request_error","param":null,"code":"model_not_found"}}""" });

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("The model 'x-large' does not exist.", (await Json.ReadAsync(response))["error"]!["message"]!.GetValue<string>());
        Assert.Equal("Bearer x", Assert.Single(keyed.Upstream.Requests).Authorization);
    }

    /// <summary>
    /// A provider named as its key (Ollama's placeholder key is "ollama"): the key is scrubbed from the upstream's words,
    /// not from the gateway's own naming of the provider (review, 2026-12-07: "Provider '***' answered").
    /// </summary>
    [Fact]
    public async Task APlainTextRejection_ByAProviderNamedAsItsKey_StillNamesTheProvider()
    {
        await using var keyed = await KeyedUpstream.StartAsync("upstream");

        using var response = await keyed.AskAsync(new UpstreamScript { Status = 400, ErrorBody = "model not found for upstream key" });

        Assert.Equal("Provider 'upstream' answered HTTP 400: model not found for *** key", (await Json.ReadAsync(response))["error"]!["message"]!.GetValue<string>());
    }

    /// <summary>A short key is still scrubbed where it stands as a word, as an upstream quoting its header quotes it.</summary>
    [Theory]
    [InlineData("hunter2", "Bad request header: Bearer hunter2.", "Bad request header: Bearer ***.")]
    [InlineData("x", "Bad header 'Bearer x' for model x-large", "Bad header 'Bearer ***' for model x-large")]
    public async Task AShortKey_IsScrubbedWhereItStandsAsAWord(string key, string upstreamMessage, string seen)
    {
        await using var keyed = await KeyedUpstream.StartAsync(key);

        using var response = await keyed.AskAsync(new UpstreamScript { Status = 400, ErrorBody = $$$"""{"error":{"message":"{{{upstreamMessage}}}","type":"invalid_request_error"}}""" });

        Assert.Equal(seen, (await Json.ReadAsync(response))["error"]!["message"]!.GetValue<string>());
    }

    /// <summary>
    /// An upstream that echoes the key in another case gives it away as surely; until 2026-12-06 (night) only the exact
    /// spelling was scrubbed (found by the security probe). Not a short placeholder's ("EMPTY", vLLM's), whose other
    /// spellings are words. Its control characters (a carriage return, an escape
    /// sequence it quotes from the request) are written as escapes: through the text log they rewrote the operator's
    /// console.
    /// </summary>
    [Theory]
    [InlineData("sk-Gateway-Key-1234", "Bad header: BEARER SK-GATEWAY-KEY-1234", "Bad header: BEARER ***")]
    [InlineData("EMPTY", "'messages' must not be empty; got None", "'messages' must not be empty; got None")] // a placeholder: its case kept
    [InlineData("sk-Gateway-Key-1234", @"Invalid value: 'x\r\ninfo: FORGED \u001b[31mPWNED\u0007'", @"Invalid value: 'x\\u000d\ninfo: FORGED \\u001b[31mPWNED\\u0007'")]
    public async Task AKeyInAnotherCase_IsScrubbedToo_AndControlCharactersAreWrittenAsEscapes(string key, string upstreamMessage, string seen)
    {
        var logs = new CapturedLogs();
        await using var keyed = await KeyedUpstream.StartAsync(key, services => services.AddSingleton<Microsoft.Extensions.Logging.ILoggerProvider>(logs));

        using var response = await keyed.AskAsync(new UpstreamScript { Status = 400, ErrorBody = $$$"""{"error":{"message":"{{{upstreamMessage}}}","type":"invalid_request_error"}}""" });

        var expected = System.Text.Json.JsonSerializer.Deserialize<string>($"\"{seen}\"");
        Assert.Equal(expected, (await Json.ReadAsync(response))["error"]!["message"]!.GetValue<string>());
        Assert.Contains(logs.Lines, line => line.Message.EndsWith(expected!, StringComparison.Ordinal));
        Assert.DoesNotContain(logs.Lines, line => line.Message.Contains('\r', StringComparison.Ordinal) || line.Message.Contains('\u001b', StringComparison.Ordinal));
    }

    [Fact]
    public async Task SuccessfulCalls_SendTheKeyUpstreamOnly()
    {
        using var response = await _gateway.Client.SendAsync(
            TestKeys.Request(HttpMethod.Post, "/v1/chat/completions", TestKeys.Client, Json.ChatRequest("up", "hello", stream: true, includeUsage: true)));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("Bearer " + FakeUpstream.ApiKey, _upstream.Requests.Single().Authorization);
        await AssertNoSecretsAsync(response);
        AssertNoSecretsInLogs();
    }

    [Fact]
    public async Task RejectedCallerKeys_AreNeverLoggedOrEchoed()
    {
        var almost = TestKeys.Client + "x";
        using var wrong = await _gateway.Client.SendAsync(TestKeys.Request(HttpMethod.Get, "/v1/models", almost));
        using var header = await _gateway.Client.SendAsync(TestKeys.Request(HttpMethod.Get, "/v1/models", almost, asApiKeyHeader: true));

        Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
        Assert.DoesNotContain(almost, await wrong.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.DoesNotContain(almost, await header.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.DoesNotContain(almost, _logs.Text, StringComparison.Ordinal);
        AssertNoSecretsInLogs();
    }

    private IEnumerable<string> Secrets() =>
        new[] { FakeUpstream.ApiKey, TestKeys.Admin, TestKeys.Client, TestKeys.EchoOnly }
            .Concat(_settings.Where(setting => setting.Key.EndsWith(":KeyHash", StringComparison.Ordinal)).Select(setting => setting.Value!));

    private async Task AssertNoSecretsAsync(HttpResponseMessage response)
    {
        var text = string.Join('\n', response.Headers.Select(h => $"{h.Key}: {string.Join(",", h.Value)}")) + await response.Content.ReadAsStringAsync();
        foreach (var secret in Secrets())
        {
            Assert.DoesNotContain(secret, text, StringComparison.OrdinalIgnoreCase);
        }
    }

    private void AssertNoSecretsInLogs()
    {
        Assert.True(_logs.Count > 0);
        foreach (var secret in Secrets())
        {
            Assert.DoesNotContain(secret, _logs.Text, StringComparison.OrdinalIgnoreCase);
        }
    }

    /// <summary>A gateway of its own whose provider <c>upstream</c> has the key given, in front of a scripted upstream.</summary>
    private sealed record KeyedUpstream(FakeUpstream Upstream, GatewayHost Gateway) : IAsyncDisposable
    {
        public static async Task<KeyedUpstream> StartAsync(string key, Action<IServiceCollection>? configureServices = null)
        {
            var upstream = await FakeUpstream.StartAsync();
            var settings = GatewayHost.WithUpstream(GatewayHost.SimulatedSettings(), upstream);
            settings["Gateway:Providers:upstream:ApiKey"] = key;
            try
            {
                return new KeyedUpstream(upstream, await GatewayHost.StartAsync(settings, configureServices));
            }
            catch
            {
                await upstream.DisposeAsync();
                throw;
            }
        }

        /// <summary>A caller's unstreamed call, which the upstream answers with <paramref name="script"/>.</summary>
        public Task<HttpResponseMessage> AskAsync(UpstreamScript script)
        {
            Upstream.Enqueue(script);
            return Gateway.Client.PostAsync("/v1/chat/completions", Json.ChatRequest("up", "hi", stream: false));
        }

        public async ValueTask DisposeAsync()
        {
            await Gateway.DisposeAsync();
            await Upstream.DisposeAsync();
        }
    }
}
