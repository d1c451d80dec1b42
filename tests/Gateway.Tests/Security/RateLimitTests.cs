using System.Net;
using Gateway.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.Tests.Security;

public sealed class RateLimitTests : IAsyncLifetime
{
    private const string Other = "gw-test-other-77d1c0";
    private readonly FakeTimeProvider _clock = new();
    private GatewayHost _gateway = null!;

    public async Task InitializeAsync()
    {
        var settings = GatewayHost.SimulatedSettings()
            .WithKey(0, "rpm", TestKeys.Limited, requestsPerMinute: 2)
            .WithKey(1, "tpm", TestKeys.Client, tokensPerMinute: 10)
            .WithKey(2, "other", Other, requestsPerMinute: 2);
        _gateway = await GatewayHost.StartAsync(settings, services => services.AddSingleton<TimeProvider>(_clock));
    }

    public async Task DisposeAsync() => await _gateway.DisposeAsync();

    [Fact]
    public async Task OverRequestsPerMinute_Is429WithRetryAfter_InTheOpenAiShape()
    {
        Assert.Equal(HttpStatusCode.OK, (await CountedAsync(TestKeys.Limited)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await CountedAsync(TestKeys.Limited)).StatusCode);

        using var limited = await CountedAsync(TestKeys.Limited);

        Assert.Equal(HttpStatusCode.TooManyRequests, limited.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(30), limited.Headers.RetryAfter?.Delta);
        Assert.InRange(long.Parse(limited.Headers.GetValues("retry-after-ms").Single(), System.Globalization.CultureInfo.InvariantCulture), 29_001, 30_000);
        Assert.False(limited.Headers.Contains("x-should-retry")); // a wait the SDKs honour
        var error = (await Json.ReadAsync(limited))["error"]!;
        Assert.Equal("rate_limit_exceeded", error["code"]!.GetValue<string>());
        Assert.Equal("requests", error["type"]!.GetValue<string>());
    }

    [Fact]
    public async Task AKeyAtItsRequestLimit_MayStillReattachToItsRun_AndCancelOne()
    {
        using var started = await _gateway.Client.SendAsync(TestKeys.Request(HttpMethod.Post, "/api/runs?background=true", TestKeys.Limited, Json.Body("""
            {"flow":{"nodes":[{"id":"in","type":"input"},{"id":"say","type":"llm","model":"echo","prompt":"in"},
              {"id":"out","type":"output","from":["say"]}]},"input":"still mine"}
            """)));
        Assert.Equal(HttpStatusCode.Accepted, started.StatusCode);
        var runId = started.Headers.GetValues("X-Run-Id").Single();
        Assert.Equal(HttpStatusCode.OK, (await CountedAsync(TestKeys.Limited)).StatusCode);
        Assert.Equal(HttpStatusCode.TooManyRequests, (await CountedAsync(TestKeys.Limited)).StatusCode);

        // Until 2026-12-06 both were 429: the watcher turned away until the grace cancelled its run, the cancel refused.
        using var reattached = await _gateway.Client.SendAsync(TestKeys.Request(HttpMethod.Get, $"/api/runs/{runId}/events", TestKeys.Limited));
        Assert.Equal(HttpStatusCode.OK, reattached.StatusCode);
        Assert.Contains("event: run.", await reattached.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        using var cancel = await _gateway.Client.SendAsync(TestKeys.Request(HttpMethod.Post, $"/api/runs/{runId}/cancel", TestKeys.Limited));
        Assert.NotEqual(HttpStatusCode.TooManyRequests, cancel.StatusCode);
        // Ended by now (the simulated model answers at once): refused as too late, not as too many.
        Assert.Equal(HttpStatusCode.Conflict, cancel.StatusCode);
    }

    [Fact]
    public async Task RequestLimit_IsPerKey_AndRefillsWithTime()
    {
        for (var i = 0; i < 3; i++)
        {
            (await CountedAsync(TestKeys.Limited)).Dispose();
        }

        Assert.Equal(HttpStatusCode.OK, (await CountedAsync(Other)).StatusCode);
        Assert.Equal(HttpStatusCode.TooManyRequests, (await CountedAsync(TestKeys.Limited)).StatusCode);

        _clock.Advance(TimeSpan.FromSeconds(30));

        Assert.Equal(HttpStatusCode.OK, (await CountedAsync(TestKeys.Limited)).StatusCode);
    }

    /// <summary>Until 2026-12-06 two models.list() calls used up a limit of 2 before the first completion.</summary>
    [Fact]
    public async Task ModelReads_AreNotCounted_AsOpenAiDoesNotCountThem()
    {
        for (var i = 0; i < 4; i++)
        {
            using var models = await ModelsAsync(TestKeys.Limited);
            Assert.Equal(HttpStatusCode.OK, models.StatusCode);
            using var model = await _gateway.Client.SendAsync(TestKeys.Request(HttpMethod.Get, "/v1/models/echo", TestKeys.Limited));
            Assert.Equal(HttpStatusCode.OK, model.StatusCode);
        }

        Assert.Equal(HttpStatusCode.OK, (await CountedAsync(TestKeys.Limited)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await CountedAsync(TestKeys.Limited)).StatusCode);
        Assert.Equal(HttpStatusCode.TooManyRequests, (await CountedAsync(TestKeys.Limited)).StatusCode);
    }

    [Fact]
    public async Task ProbesAndUnlimitedKeys_AreNotThrottled()
    {
        for (var i = 0; i < 5; i++)
        {
            using var health = await _gateway.Client.SendAsync(TestKeys.Request(HttpMethod.Get, "/healthz", TestKeys.Limited));
            Assert.Equal(HttpStatusCode.OK, health.StatusCode);
            using var models = await ModelsAsync(TestKeys.Client);
            Assert.Equal(HttpStatusCode.OK, models.StatusCode);
        }
    }

    [Fact]
    public async Task TokensPerMinute_CountsRealUsage_NotTheEstimate()
    {
        // Reserves 4 + 50 tokens (more than the 10 a minute allowed, so from a full bucket); echo really uses
        // 3 in + 3 out, so settling leaves 4 tokens, not a 44-token debt.
        using var first = await ChatAsync(TestKeys.Client, "one two three", maxTokens: 50);
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(6, (await Json.ReadAsync(first))["usage"]!["total_tokens"]!.GetValue<int>());

        using var limited = await ChatAsync(TestKeys.Client, "one two three", maxTokens: 5);

        Assert.Equal(HttpStatusCode.TooManyRequests, limited.StatusCode);
        Assert.Equal("tokens", (await Json.ReadAsync(limited))["error"]!["type"]!.GetValue<string>());
        Assert.Equal(TimeSpan.FromSeconds(30), limited.Headers.RetryAfter?.Delta);

        _clock.Advance(TimeSpan.FromSeconds(30));
        using var again = await ChatAsync(TestKeys.Client, "one two three", maxTokens: 5);
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
    }

    /// <summary>
    /// The OpenAI SDKs wait out a Retry-After of a minute at most; past it they retry on their own backoff, within
    /// seconds, into the same 429. Until 2026-12-06 (later) a key's own long wait did not tell them not to.
    /// </summary>
    [Fact]
    public async Task AWaitLongerThanTheSdksHonour_TellsThemNotToRetry()
    {
        // 40 words in and out against 10 tokens a minute: the debt takes minutes to refill.
        var words = string.Join(' ', Enumerable.Repeat("word", 40));
        using var first = await ChatAsync(TestKeys.Client, words, maxTokens: 50);
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);

        using var limited = await ChatAsync(TestKeys.Client, "one", maxTokens: 5);

        Assert.Equal(HttpStatusCode.TooManyRequests, limited.StatusCode);
        Assert.True(limited.Headers.RetryAfter?.Delta > TimeSpan.FromSeconds(60), limited.Headers.RetryAfter?.ToString());
        Assert.Equal("false", limited.Headers.GetValues("x-should-retry").Single());
    }

    [Fact]
    public async Task TokensPerMinute_SettlesStreamedUsage()
    {
        using var first = await ChatAsync(TestKeys.Client, "one two three", maxTokens: 50, stream: true);
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        await first.Content.ReadAsStringAsync();

        using var limited = await ChatAsync(TestKeys.Client, "one two three", maxTokens: 5);

        Assert.Equal(HttpStatusCode.TooManyRequests, limited.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(30), limited.Headers.RetryAfter?.Delta);
    }

    /// <summary>A request the key's RequestsPerMinute counts: a completion of one word.</summary>
    /// <summary>
    /// A path no endpoint has is a 404 and takes nothing from the key's requests: until 2026-12-08 a client with a wrong
    /// base URL (<c>/v1/nothing</c>) used them up, and its first real call was a 429.
    /// </summary>
    [Fact]
    public async Task APathThatDoesNotExist_IsA404_ThatTakesNothingFromTheKeysRequests()
    {
        for (var i = 0; i < 3; i++)
        {
            using var missing = await _gateway.Client.SendAsync(TestKeys.Request(HttpMethod.Post, "/v1/nothing", TestKeys.Limited, Json.ChatRequest("echo", "hi", stream: false)));
            Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
            Assert.False(missing.Headers.Contains("x-ratelimit-remaining-requests"));
        }

        using var first = await CountedAsync(TestKeys.Limited);
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal("1", first.Headers.GetValues("x-ratelimit-remaining-requests").Single());
    }

    private Task<HttpResponseMessage> CountedAsync(string key) =>
        _gateway.Client.SendAsync(TestKeys.Request(HttpMethod.Post, "/v1/chat/completions", key, Json.ChatRequest("echo", "hi", stream: false)));

    private Task<HttpResponseMessage> ModelsAsync(string key) =>
        _gateway.Client.SendAsync(TestKeys.Request(HttpMethod.Get, "/v1/models", key));

    private Task<HttpResponseMessage> ChatAsync(string key, string message, int maxTokens, bool stream = false) =>
        _gateway.Client.SendAsync(TestKeys.Request(
            HttpMethod.Post, "/v1/chat/completions", key, Json.ChatRequest("echo", message, stream, includeUsage: stream, maxTokens: maxTokens)));
}
