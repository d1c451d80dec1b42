using System.Diagnostics.Metrics;
using System.Runtime.CompilerServices;
using Gateway.Providers;
using Gateway.Resilience;
using Gateway.Telemetry;
using Gateway.Tests.Infrastructure;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gateway.Tests.Resilience;

/// <summary>One streaming attempt alone, on a fake clock, over a hand-written client.</summary>
public sealed class StreamAttemptTests
{
    private readonly FakeTimeProvider _clock = new();

    /// <summary>
    /// The first-token clock runs out in the instant between the first token's read and the attempt stopping the clock:
    /// the upstream's connection is then closing under the cancelled token. Until 2026-12-06 (evening) the attempt went
    /// on, and the stream broke right after its first token ("sent nothing for 30 s mid-stream"; 2 in ~255 streams
    /// whose first token came a millisecond inside the timeout). It is a first token too late, which is retried.
    /// </summary>
    [Fact]
    public async Task AFirstTokenAsItsClockRunsOut_IsAFirstTokenTimeout_NotAStreamThatBreaksAfterIt()
    {
        var options = new ResilienceOptions { FirstTokenTimeoutSeconds = 1, IdleTimeoutSeconds = 30 };
        var pipelines = new ProviderPipelines(new StaticOptionsMonitor<ResilienceOptions>(options), _clock, NullLogger<ProviderPipelines>.Instance);
        using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var metrics = new GatewayMetrics(services.GetRequiredService<IMeterFactory>(), pipelines);
        var call = new UpstreamCall(
            "m", new Deployment("p", "x", new TokenAtTheDeadline(_clock)), new RouteTrace(), options, isStreaming: true, span: null, metrics, NullLogger.Instance);

        var failure = await Assert.ThrowsAsync<UpstreamException>(async () =>
            await StreamAttempt.StartAsync(call, [], new ChatOptions(), _clock, CancellationToken.None, CancellationToken.None));

        Assert.Equal(UpstreamFailure.Timeout, failure.Failure);
        Assert.Equal("first-token timeout", failure.Reason);
        Assert.True(FailureClassifier.IsRetryable(failure));
    }

    /// <summary>Answers "first" just as the first-token clock runs out, then a finish, honouring its token as an HTTP read does.</summary>
    private sealed class TokenAtTheDeadline(FakeTimeProvider clock) : IChatClient
    {
        public async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(
            IEnumerable<ChatMessage> messages, ChatOptions? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
        {
            UpstreamCall.Current!.HttpHeadersReceived(new HttpResponseMessage(System.Net.HttpStatusCode.OK)); // as the resilience handler does: the clock starts
            await Task.Yield();
            clock.Advance(TimeSpan.FromSeconds(1));
            yield return new ChatResponseUpdate(ChatRole.Assistant, "first");
            cancellationToken.ThrowIfCancellationRequested();
            yield return new ChatResponseUpdate { FinishReason = ChatFinishReason.Stop };
        }

        public Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default) =>
            throw new NotSupportedException();

        public object? GetService(Type serviceType, object? serviceKey = null) => null;

        public void Dispose()
        {
        }
    }
}
