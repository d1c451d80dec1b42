using System.Net;
using Gateway.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.Tests.Security;

/// <summary>
/// A stream the caller stops has no usage from the model: it pays for what it was seen to spend (the prompt's estimate
/// and one token per chunk sent), not its whole <c>max_tokens</c>, which locked a key out for minutes after every
/// "stop generating".
/// </summary>
public sealed class TokenSettlementTests
{
    [Fact]
    public async Task AStreamTheCallerStops_PaysForTheChunksSent_NotItsMaxTokens()
    {
        var settings = GatewayHost.SimulatedSettings(tokenDelayMs: 50).WithKey(0, "tpm", TestKeys.Client, tokensPerMinute: 1000);
        await using var gateway = await GatewayHost.StartAsync(settings);

        // Reserves 1 + 900 of the 1,000; the caller leaves after a few words.
        using (var stopped = await SendAsync(gateway, maxTokens: 900, stream: true))
        {
            Assert.Equal(HttpStatusCode.OK, stopped.StatusCode);
            await using var body = await stopped.Content.ReadAsStreamAsync();
            await body.ReadExactlyAsync(new byte[200]);
        }

        // Another 901 fits only once the first is settled at a few tokens: kept at its estimate, ~100 would be left.
        Assert.Equal(HttpStatusCode.OK, await AnotherOf901Async(gateway));
    }

    [Fact]
    public async Task ACallerWhoLeavesAStreamBeforeItsFirstToken_PaysForItsPrompt_NotItsMaxTokens()
    {
        await using var upstream = await FakeUpstream.StartAsync();
        var settings = GatewayHost.WithDeployments(GatewayHost.SimulatedSettings(), "up", upstream.BaseUrl)
            .WithKey(0, "tpm", TestKeys.Client, tokensPerMinute: 1000);
        await using var gateway = await GatewayHost.StartAsync(settings);
        upstream.Enqueue(new UpstreamScript { Stall = (0, TimeSpan.FromSeconds(20)) });

        using var leaving = new CancellationTokenSource();
        var left = gateway.Client.SendAsync(
            TestKeys.Request(HttpMethod.Post, "/v1/chat/completions", TestKeys.Client, Json.ChatRequest("up", "hi", stream: true, maxTokens: 900)),
            HttpCompletionOption.ResponseHeadersRead,
            leaving.Token);
        await AssertHeldAsync(gateway, () => upstream.Requests.Count == 1);
        await leaving.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => left);

        Assert.Equal(HttpStatusCode.OK, await AnotherOf901Async(gateway));
    }

    [Fact]
    public async Task ACallerWhoLeavesAWholeAnswer_KeepsItsEstimate_ForItsGenerationWasNotSeen()
    {
        await using var upstream = await FakeUpstream.StartAsync();
        var settings = GatewayHost.WithDeployments(GatewayHost.SimulatedSettings(), "up", upstream.BaseUrl)
            .WithKey(0, "tpm", TestKeys.Client, tokensPerMinute: 1000);
        await using var gateway = await GatewayHost.StartAsync(settings);
        upstream.Enqueue(new UpstreamScript { HeadersDelay = TimeSpan.FromSeconds(20) });

        // Not streamed: the answer is 20 s away, and what the model generated before the caller left is not known.
        using var leaving = new CancellationTokenSource();
        var left = gateway.Client.SendAsync(
            TestKeys.Request(HttpMethod.Post, "/v1/chat/completions", TestKeys.Client, Json.ChatRequest("up", "hi", stream: false, maxTokens: 900)),
            leaving.Token);
        // Once the call has reached the upstream it holds its reservation (probed before, a probe could take it first).
        await AssertHeldAsync(gateway, () => upstream.Requests.Count == 1);
        await leaving.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => left);

        Assert.Equal(HttpStatusCode.TooManyRequests, await AnotherOf901Async(gateway));
    }

    /// <summary>
    /// A call the gateway itself fails (a 500: here a handler throws what no upstream failure is) gives its reservation
    /// back: until 2026-12-07 its whole estimate stayed charged until the minute refilled it.
    /// </summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task ACallTheGatewayItselfFails_PaysNothing(bool stream)
    {
        await using var upstream = await FakeUpstream.StartAsync();
        var settings = GatewayHost.WithUpstream(GatewayHost.SimulatedSettings(), upstream).WithKey(0, "tpm", TestKeys.Client, tokensPerMinute: 1000);
        await using var gateway = await GatewayHost.StartAsync(settings, services =>
            services.AddHttpClient(Gateway.Providers.ProviderRegistry.HttpClientName("upstream")).AddHttpMessageHandler(() => new Broken()));

        using var failed = await SendAsync(gateway, maxTokens: 900, stream, model: "up");

        Assert.Equal(HttpStatusCode.InternalServerError, failed.StatusCode);
        Assert.Equal(HttpStatusCode.OK, await AnotherOf901Async(gateway));
    }

    private sealed class Broken : DelegatingHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
            throw new NotSupportedException("a fault of the gateway's own");
    }

    /// <summary>Waits until the call under way holds its reservation: then another of 901 does not fit.</summary>
    private static async Task AssertHeldAsync(GatewayHost gateway, Func<bool> callArrived)
    {
        // First the call, then the probes: a probe sent before the call had reserved took the budget itself (and let
        // it go again), and the call was refused instead.
        for (var i = 0; i < 50 && !callArrived(); i++)
        {
            await Task.Delay(100);
        }

        var status = HttpStatusCode.OK;
        for (var i = 0; i < 50 && status != HttpStatusCode.TooManyRequests; i++)
        {
            await Task.Delay(100);
            using var probe = await SendAsync(gateway, maxTokens: 900, stream: false, model: "echo");
            status = probe.StatusCode;
        }

        Assert.Equal(HttpStatusCode.TooManyRequests, status);
    }

    [Fact]
    public async Task ARunItsKeyCannotPayFor_Is429WithRetryAfter_AtTheDoor_AndNoRunStarts()
    {
        // 60 a minute: one a second comes back, so the run below stays refused for many seconds, however slow the machine.
        await using var gateway = await StartWithBudgetAsync(tokenDelayMs: 200, tokensPerMinute: 60);
        // A stream under way (55 words, 11 s) holds 1 + 55 of the 60 while it lasts.
        using var holding = await SendAsync(gateway, maxTokens: 55, stream: true);
        Assert.Equal(HttpStatusCode.OK, holding.StatusCode);

        using var run = await gateway.Client.SendAsync(TestKeys.Request(HttpMethod.Post, "/api/runs", TestKeys.Client, Json.Body("""
            {"input":"x","flow":{"nodes":[{"id":"in","type":"input"},{"id":"a","type":"llm","model":"echo","prompt":"in","maxTokens":20},
                                          {"id":"out","type":"output","from":["a"]}]}}
            """)));

        Assert.Equal(HttpStatusCode.TooManyRequests, run.StatusCode);
        Assert.True(run.Headers.RetryAfter?.Delta >= TimeSpan.FromSeconds(1));
        Assert.Equal("rate_limit_exceeded", (await Json.ReadAsync(run))["code"]!.GetValue<string>());
        Assert.False(run.Headers.Contains("X-Run-Id"), "no run should have started");
    }

    [Fact]
    public async Task ACallAskingForFarMoreThanTheKeysMinute_SetsAsideAMinutesBudget_NotADaysDebt()
    {
        await using var gateway = await StartWithBudgetAsync(tokenDelayMs: 50, tokensPerMinute: 1000);

        // Its estimate is a million tokens: reserved whole, it told every other call of the key to come back in 16 hours.
        using var huge = await SendAsync(gateway, maxTokens: 1_000_000, stream: true);
        Assert.Equal(HttpStatusCode.OK, huge.StatusCode);
        // 601 tokens: more than a few seconds' refill, so a slow machine's gap between the two calls cannot let it in.
        using var next = await SendAsync(gateway, maxTokens: 600, stream: false, model: "echo");

        Assert.Equal(HttpStatusCode.TooManyRequests, next.StatusCode);
        Assert.InRange(next.Headers.RetryAfter!.Delta!.Value, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(60));
        var message = (await Json.ReadAsync(next))["error"]!["message"]!.GetValue<string>();
        Assert.Equal($"Token rate limit reached for this API key. Retry after {(long)next.Headers.RetryAfter.Delta.Value.TotalSeconds} s.", message);
    }

    /// <summary>
    /// A call reserving 1 + 900 of the key's 1,000, tried for up to 3 s while the first call is settled (settling is
    /// not awaited by the call it ends): OK once it fits, 429 if it never does (1,000 a minute refill ~50 in that time).
    /// </summary>
    private static async Task<HttpStatusCode> AnotherOf901Async(GatewayHost gateway)
    {
        var status = HttpStatusCode.TooManyRequests;
        for (var i = 0; i < 30 && status == HttpStatusCode.TooManyRequests; i++)
        {
            await Task.Delay(100);
            using var next = await SendAsync(gateway, maxTokens: 900, stream: false, model: "echo");
            status = next.StatusCode;
        }

        return status;
    }

    /// <summary>The simulated models, and the client key with a budget of <paramref name="tokensPerMinute"/>.</summary>
    private static Task<GatewayHost> StartWithBudgetAsync(int tokenDelayMs, int tokensPerMinute) =>
        GatewayHost.StartAsync(GatewayHost.SimulatedSettings(tokenDelayMs).WithKey(0, "tpm", TestKeys.Client, tokensPerMinute: tokensPerMinute));

    private static Task<HttpResponseMessage> SendAsync(GatewayHost gateway, int maxTokens, bool stream, string model = "lorem") =>
        gateway.Client.SendAsync(
            TestKeys.Request(HttpMethod.Post, "/v1/chat/completions", TestKeys.Client, Json.ChatRequest(model, "hi", stream, maxTokens: maxTokens)),
            HttpCompletionOption.ResponseHeadersRead);
}
