using System.Net;
using Gateway.Resilience;
using Gateway.Tests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gateway.Tests.Resilience;

/// <summary>The HTTP handler and its pipeline alone, on a fake clock, with a hand-written inner handler.</summary>
public sealed class ResilienceHandlerTests
{
    private readonly FakeTimeProvider _clock = new();

    private HttpClient Client(ScriptedHandler inner, ResilienceOptions options)
    {
        var pipelines = new ProviderPipelines(new StaticOptionsMonitor<ResilienceOptions>(options), _clock, NullLogger<ProviderPipelines>.Instance);
        return new HttpClient(new ResilienceHandler("p", pipelines) { InnerHandler = inner });
    }

    [Fact]
    public async Task RetryAfterSeconds_IsWaitedOutOnTheClockBeforeTheRetry()
    {
        var inner = new ScriptedHandler(Response(HttpStatusCode.TooManyRequests, retryAfter: "5"), Response(HttpStatusCode.OK));
        using var client = Client(inner, new ResilienceOptions { BaseDelayMs = 10 });

        var send = client.GetAsync("http://upstream.test/");
        await WaitUntilAsync(() => inner.Calls == 1 && _clock.PendingTimers > 0);
        _clock.Advance(TimeSpan.FromSeconds(4.99));
        await Task.Delay(50);
        Assert.Equal(1, inner.Calls);
        Assert.False(send.IsCompleted);

        _clock.Advance(TimeSpan.FromSeconds(0.01));
        using var response = await send.WaitAsync(TimeSpan.FromSeconds(5));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(2, inner.Calls);
    }

    [Fact]
    public async Task RetryAfterBeyondMaxDelay_IsCapped()
    {
        var inner = new ScriptedHandler(Response(HttpStatusCode.ServiceUnavailable, retryAfter: "3600"), Response(HttpStatusCode.OK));
        using var client = Client(inner, new ResilienceOptions { MaxDelayMs = 2_000 });

        var send = client.GetAsync("http://upstream.test/");
        await WaitUntilAsync(() => inner.Calls == 1 && _clock.PendingTimers > 0);
        _clock.Advance(TimeSpan.FromSeconds(2));

        using var response = await send.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Equal(2, inner.Calls);
    }

    [Theory]
    [InlineData(HttpStatusCode.BadRequest)]
    [InlineData(HttpStatusCode.NotFound)]
    [InlineData(HttpStatusCode.UnprocessableEntity)]
    [InlineData(HttpStatusCode.Unauthorized)]
    public async Task ClientErrors_AreNeverRetried(HttpStatusCode status)
    {
        var inner = new ScriptedHandler(Response(status), Response(HttpStatusCode.OK));
        using var client = Client(inner, new ResilienceOptions { BaseDelayMs = 0 });

        using var response = await client.GetAsync("http://upstream.test/");

        Assert.Equal(status, response.StatusCode);
        Assert.Equal(1, inner.Calls);
    }

    [Theory]
    [InlineData(HttpStatusCode.RequestTimeout)]
    [InlineData(HttpStatusCode.TooManyRequests)]
    [InlineData(HttpStatusCode.InternalServerError)]
    [InlineData(HttpStatusCode.BadGateway)]
    [InlineData(HttpStatusCode.ServiceUnavailable)]
    [InlineData(HttpStatusCode.GatewayTimeout)]
    public async Task TransientStatuses_AreRetriedUpToMaxRetries(HttpStatusCode status)
    {
        var inner = new ScriptedHandler(Response(status), Response(status), Response(status), Response(HttpStatusCode.OK));
        using var client = Client(inner, new ResilienceOptions { BaseDelayMs = 0, MaxRetries = 2 });

        using var response = await client.GetAsync("http://upstream.test/");

        Assert.Equal(status, response.StatusCode);
        Assert.Equal(3, inner.Calls);
    }

    private static HttpResponseMessage Response(HttpStatusCode status, string? retryAfter = null)
    {
        var response = new HttpResponseMessage(status);
        if (retryAfter is not null)
        {
            response.Headers.TryAddWithoutValidation("Retry-After", retryAfter);
        }

        return response;
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        for (var i = 0; i < 2000 && !condition(); i++)
        {
            await Task.Delay(1);
        }

        Assert.True(condition());
    }

    private sealed class ScriptedHandler(params HttpResponseMessage[] responses) : HttpMessageHandler
    {
        private int _calls;

        public int Calls => Volatile.Read(ref _calls);

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
            Task.FromResult(responses[Interlocked.Increment(ref _calls) - 1]);
    }
}
