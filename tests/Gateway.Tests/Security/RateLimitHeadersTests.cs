using System.Net;
using Gateway.Storage;
using Gateway.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.Tests.Security;

/// <summary>
/// OpenAI's <c>x-ratelimit-*</c> headers, from the caller key's own buckets, which clients read to pace themselves. Until
/// 2026-12-08 the gateway said nothing of a key's limits before its 429. The numbers: "one two three" is reckoned at 4
/// prompt tokens, so with <c>max_tokens: 20</c> a call reserves 24; echo reports 3 in and 3 out, so it settles at 6.
/// A minute's 3 requests refill one each 20 s, 100 tokens one each 0.6 s.
/// </summary>
public sealed class RateLimitHeadersTests : IAsyncLifetime
{
    private const string RequestsOnly = "gw-test-rpm-only-3f1c2d";
    private const string TokensOnly = "gw-test-tpm-only-8b0e57";
    private readonly FakeTimeProvider _clock = new();
    private GatewayHost _gateway = null!;

    public async Task InitializeAsync() => _gateway = await GatewayHost.StartAsync(Settings(), services => services.AddSingleton<TimeProvider>(_clock));

    public async Task DisposeAsync() => await _gateway.DisposeAsync();

    private static Dictionary<string, string?> Settings() => GatewayHost.SimulatedSettings()
        .WithKey(0, "both", TestKeys.Limited, requestsPerMinute: 3, tokensPerMinute: 100)
        .WithKey(1, "rpm", RequestsOnly, requestsPerMinute: 3)
        .WithKey(2, "tpm", TokensOnly, tokensPerMinute: 100)
        .WithKey(3, "free", TestKeys.Client);

    [Fact]
    public async Task AKeyWithBothLimits_IsToldHowBothBucketsStand_AfterEachRequest()
    {
        // A whole answer: the request taken, and the tokens as settled (24 reserved, 6 used) before the answer went.
        using (var first = await ChatAsync(TestKeys.Limited, stream: false))
        {
            Assert.Equal(HttpStatusCode.OK, first.StatusCode);
            Assert.Equal(6, (await Json.ReadAsync(first))["usage"]!["total_tokens"]!.GetValue<int>());
            AssertRequests(first, remaining: 2, reset: "20s");
            AssertTokens(first, remaining: 94, reset: "3.6s");
        }

        // A stream's headers go out before its usage is known: they say its reservation, 24 more.
        using (var streamed = await ChatAsync(TestKeys.Limited, stream: true))
        {
            Assert.Equal(HttpStatusCode.OK, streamed.StatusCode);
            AssertRequests(streamed, remaining: 1, reset: "40s");
            AssertTokens(streamed, remaining: 70, reset: "18s");
            Assert.Contains("[DONE]", await streamed.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        // Which it settled as it ended, at 6: 88 left, less this call's 6.
        using (var third = await ChatAsync(TestKeys.Limited, stream: false))
        {
            AssertRequests(third, remaining: 0, reset: "1m0s");
            AssertTokens(third, remaining: 82, reset: "10.8s");
        }

        // Half a minute refills 1.5 requests (0.5 left after this one) and the whole token bucket.
        _clock.Advance(TimeSpan.FromSeconds(30));
        using var later = await ChatAsync(TestKeys.Limited, stream: false);
        AssertRequests(later, remaining: 0, reset: "50s");
        AssertTokens(later, remaining: 94, reset: "3.6s");
    }

    [Fact]
    public async Task OverTheRequestLimit_The429SaysTheBucket_AndRetryAfterTheNextRequest_NotTheFullBucket()
    {
        for (var i = 0; i < 3; i++)
        {
            (await ChatAsync(TestKeys.Limited, stream: false)).Dispose();
        }

        _clock.Advance(TimeSpan.FromSeconds(5));
        using var limited = await ChatAsync(TestKeys.Limited, stream: false);

        Assert.Equal(HttpStatusCode.TooManyRequests, limited.StatusCode);
        // 0.25 of a request refilled: the next whole one in 15 s, a full bucket in 55.
        AssertRequests(limited, remaining: 0, reset: "55s");
        Assert.Equal(TimeSpan.FromSeconds(15), limited.Headers.RetryAfter?.Delta);
        Assert.Equal("15000", limited.Headers.GetValues("retry-after-ms").Single());
        // The token bucket was not consulted for a request refused at the door, and is not read again to say it.
        AssertNone(limited, "tokens");
    }

    [Fact]
    public async Task OverTheTokenLimit_The429SaysBothBuckets_AndRetryAfterWithinTheReset()
    {
        await SpendIntoDebtAsync();

        using var limited = await ChatAsync(TestKeys.Limited, stream: false);

        Assert.Equal(HttpStatusCode.TooManyRequests, limited.StatusCode);
        Assert.Equal("tokens", (await Json.ReadAsync(limited))["error"]!["type"]!.GetValue<string>());
        AssertRequests(limited, remaining: 1, reset: "40s");
        // 144 tokens short of the 24 it asks for (86.4 s), 220 of a full bucket.
        AssertTokens(limited, remaining: 0, reset: "2m12s");
        Assert.Equal(TimeSpan.FromSeconds(87), limited.Headers.RetryAfter?.Delta);
    }

    /// <summary>
    /// 200 words, reckoned at 250 tokens: a minute's 100 are reserved, and the call uses 220 (200 in, the 20 of its
    /// max_tokens out), leaving the bucket 120 in debt.
    /// </summary>
    private async Task SpendIntoDebtAsync()
    {
        using var spender = await ChatAsync(TestKeys.Limited, stream: false, message: string.Join(' ', Enumerable.Repeat("word", 200)));
        Assert.Equal(220, (await Json.ReadAsync(spender))["usage"]!["total_tokens"]!.GetValue<int>());
        AssertTokens(spender, remaining: 0, reset: "2m12s");
    }

    [Fact]
    public async Task AKeyWithOneLimit_IsToldOfThatOneAlone()
    {
        using var requests = await ChatAsync(RequestsOnly, stream: false);
        AssertRequests(requests, remaining: 2, reset: "20s");
        AssertNone(requests, "tokens");

        using var tokens = await ChatAsync(TokensOnly, stream: true);
        AssertTokens(tokens, remaining: 76, reset: "14.4s");
        AssertNone(tokens, "requests");
    }

    [Fact]
    public async Task AKeyWithoutLimits_IsToldNothing()
    {
        using var free = await ChatAsync(TestKeys.Client, stream: false);

        Assert.Equal(HttpStatusCode.OK, free.StatusCode);
        AssertNone(free, "requests");
        AssertNone(free, "tokens");
    }

    [Fact]
    public async Task AnAnonymousCaller_IsToldNothing()
    {
        await using var anonymous = await GatewayHost.StartAsync(GatewayHost.SimulatedSettings());

        using var response = await anonymous.Client.SendAsync(
            TestKeys.Request(HttpMethod.Post, "/v1/chat/completions", content: Json.ChatRequest("echo", "one two three", stream: false)));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        AssertNone(response, "requests");
        AssertNone(response, "tokens");
    }

    /// <summary>
    /// A run's tokens are taken node by node once its answer has begun, so only its 429 says the buckets (and model
    /// reads, not counted, say nothing).
    /// </summary>
    [Fact]
    public async Task UnderApi_OnlyA429SaysTheBuckets()
    {
        using (var run = await RunAsync(RequestsOnly))
        {
            Assert.Equal(HttpStatusCode.OK, run.StatusCode);
            AssertNone(run, "requests");
        }

        using (var models = await _gateway.Client.SendAsync(TestKeys.Request(HttpMethod.Get, "/v1/models", TestKeys.Limited)))
        {
            AssertNone(models, "requests");
        }

        await SpendIntoDebtAsync();
        using var limited = await RunAsync(TestKeys.Limited);

        Assert.Equal(HttpStatusCode.TooManyRequests, limited.StatusCode);
        AssertRequests(limited, remaining: 1, reset: "40s");
        // The probe for its smallest node (20 tokens) is 140 short, 84 s; the bucket full in 2 m 12 s.
        AssertTokens(limited, remaining: 0, reset: "2m12s");
        Assert.Equal(TimeSpan.FromSeconds(84), limited.Headers.RetryAfter?.Delta);
    }

    /// <summary>On PostgreSQL the values are the atomic take's own (its clock runs: a few milliseconds' refill is allowed).</summary>
    [Fact]
    public async Task OnPostgreSql_TheHeadersAreWhatTheTakeReturned()
    {
        var settings = Settings();
        settings["Gateway:Storage:Provider"] = StorageOptions.Postgres;
        settings[GatewayHost.StorageKey] = await PostgresServer.CreateDatabaseAsync();
        await using var gateway = await GatewayHost.StartAsync(settings, services => services.AddSingleton<TimeProvider>(_clock));

        using (var first = await ChatAsync(gateway, TestKeys.Limited, stream: false))
        {
            Assert.Equal(HttpStatusCode.OK, first.StatusCode);
            AssertRequests(first, remaining: 2, resetWithin: (19, 20));
            AssertTokens(first, remaining: 94, resetWithin: (3, 3.6));
        }

        using var streamed = await ChatAsync(gateway, TestKeys.Limited, stream: true);
        AssertRequests(streamed, remaining: 1, resetWithin: (39, 40));
        AssertTokens(streamed, remainingWithin: (70, 71), resetWithin: (17, 18));
    }

    private Task<HttpResponseMessage> ChatAsync(string key, bool stream, string message = "one two three") =>
        ChatAsync(_gateway, key, stream, message);

    private static Task<HttpResponseMessage> ChatAsync(GatewayHost gateway, string key, bool stream, string message = "one two three") =>
        gateway.Client.SendAsync(
            TestKeys.Request(HttpMethod.Post, "/v1/chat/completions", key, Json.ChatRequest("echo", message, stream, includeUsage: stream, maxTokens: 20)),
            HttpCompletionOption.ResponseHeadersRead);

    private Task<HttpResponseMessage> RunAsync(string key) =>
        _gateway.Client.SendAsync(TestKeys.Request(HttpMethod.Post, "/api/runs", key, Json.Body("""
            {"flow":{"nodes":[{"id":"in","type":"input"},{"id":"say","type":"llm","model":"echo","prompt":"in","maxTokens":20},
              {"id":"out","type":"output","from":["say"]}]},"input":"one two three"}
            """)));

    private static void AssertRequests(HttpResponseMessage response, long remaining, string reset)
    {
        Assert.Equal("3", Header(response, "x-ratelimit-limit-requests"));
        Assert.Equal(remaining.ToString(System.Globalization.CultureInfo.InvariantCulture), Header(response, "x-ratelimit-remaining-requests"));
        Assert.Equal(reset, Header(response, "x-ratelimit-reset-requests"));
    }

    private static void AssertTokens(HttpResponseMessage response, long remaining, string reset)
    {
        Assert.Equal("100", Header(response, "x-ratelimit-limit-tokens"));
        Assert.Equal(remaining.ToString(System.Globalization.CultureInfo.InvariantCulture), Header(response, "x-ratelimit-remaining-tokens"));
        Assert.Equal(reset, Header(response, "x-ratelimit-reset-tokens"));
    }

    private static void AssertRequests(HttpResponseMessage response, long remaining, (double Low, double High) resetWithin)
    {
        Assert.Equal("3", Header(response, "x-ratelimit-limit-requests"));
        Assert.Equal(remaining.ToString(System.Globalization.CultureInfo.InvariantCulture), Header(response, "x-ratelimit-remaining-requests"));
        Assert.InRange(Seconds(Header(response, "x-ratelimit-reset-requests")), resetWithin.Low, resetWithin.High);
    }

    private static void AssertTokens(HttpResponseMessage response, long remaining, (double Low, double High) resetWithin) =>
        AssertTokens(response, (remaining, remaining), resetWithin);

    private static void AssertTokens(HttpResponseMessage response, (long Low, long High) remainingWithin, (double Low, double High) resetWithin)
    {
        Assert.Equal("100", Header(response, "x-ratelimit-limit-tokens"));
        Assert.InRange(long.Parse(Header(response, "x-ratelimit-remaining-tokens"), System.Globalization.CultureInfo.InvariantCulture), remainingWithin.Low, remainingWithin.High);
        Assert.InRange(Seconds(Header(response, "x-ratelimit-reset-tokens")), resetWithin.Low, resetWithin.High);
    }

    private static void AssertNone(HttpResponseMessage response, string family) =>
        Assert.DoesNotContain(response.Headers, header => header.Key.StartsWith("x-ratelimit-", StringComparison.OrdinalIgnoreCase)
            && header.Key.EndsWith(family, StringComparison.OrdinalIgnoreCase));

    private static string Header(HttpResponseMessage response, string name) => response.Headers.GetValues(name).Single();

    /// <summary>A reset under a minute: <c>18s</c>, <c>3.6s</c> or <c>950ms</c>.</summary>
    private static double Seconds(string reset) => reset.EndsWith("ms", StringComparison.Ordinal)
        ? double.Parse(reset[..^2], System.Globalization.CultureInfo.InvariantCulture) / 1000
        : double.Parse(reset.TrimEnd('s'), System.Globalization.CultureInfo.InvariantCulture);
}
