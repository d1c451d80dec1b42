using System.Net;
using Gateway.Tests.Infrastructure;

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
        var status = HttpStatusCode.TooManyRequests;
        for (var i = 0; i < 30 && status == HttpStatusCode.TooManyRequests; i++)
        {
            await Task.Delay(100);
            using var next = await SendAsync(gateway, maxTokens: 900, stream: false, model: "echo");
            status = next.StatusCode;
        }

        Assert.Equal(HttpStatusCode.OK, status);
    }

    [Fact]
    public async Task ACallerWhoLeavesBeforeAnyAnswer_PaysForItsPrompt_NotItsMaxTokens()
    {
        var settings = GatewayHost.SimulatedSettings(tokenDelayMs: 50).WithKey(0, "tpm", TestKeys.Client, tokensPerMinute: 1000);
        await using var gateway = await GatewayHost.StartAsync(settings);

        // Not streamed: nothing reaches the caller before the whole answer, 45 s away; it gives up after 300 ms.
        using (var leaving = new CancellationTokenSource(TimeSpan.FromMilliseconds(300)))
        {
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => gateway.Client.SendAsync(
                TestKeys.Request(HttpMethod.Post, "/v1/chat/completions", TestKeys.Client, Json.ChatRequest("lorem", "hi", stream: false, maxTokens: 900)),
                leaving.Token));
        }

        var status = HttpStatusCode.TooManyRequests;
        for (var i = 0; i < 30 && status == HttpStatusCode.TooManyRequests; i++)
        {
            await Task.Delay(100);
            using var next = await SendAsync(gateway, maxTokens: 900, stream: false, model: "echo");
            status = next.StatusCode;
        }

        Assert.Equal(HttpStatusCode.OK, status);
    }

    [Fact]
    public async Task ARunItsKeyCannotPayFor_Is429WithRetryAfter_AtTheDoor_AndNoRunStarts()
    {
        // 60 a minute: one a second comes back, so the run below stays refused for many seconds, however slow the machine.
        var settings = GatewayHost.SimulatedSettings(tokenDelayMs: 200).WithKey(0, "tpm", TestKeys.Client, tokensPerMinute: 60);
        await using var gateway = await GatewayHost.StartAsync(settings);
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

    private static Task<HttpResponseMessage> SendAsync(GatewayHost gateway, int maxTokens, bool stream, string model = "lorem") =>
        gateway.Client.SendAsync(
            TestKeys.Request(HttpMethod.Post, "/v1/chat/completions", TestKeys.Client, Json.ChatRequest(model, "hi", stream, maxTokens: maxTokens)),
            HttpCompletionOption.ResponseHeadersRead);
}
