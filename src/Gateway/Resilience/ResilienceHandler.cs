using System.Net;
using Gateway.Providers;
using Polly;
using Polly.CircuitBreaker;
using Polly.Timeout;

namespace Gateway.Resilience;

/// <summary>
/// Runs a provider's HTTP pipeline (retry, circuit breaker, per-attempt timeout) around every request on its
/// <see cref="HttpClient"/>, and turns what the pipeline gives up with into <see cref="UpstreamException"/>.
/// </summary>
internal sealed class ResilienceHandler(string provider, ProviderPipelines pipelines) : DelegatingHandler
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var call = UpstreamCall.Current;
        var context = ResilienceContextPool.Shared.Get(cancellationToken);
        ProviderPipelines.Attach(context, call);
        try
        {
            var outcome = await pipelines.ForHttp(provider).ExecuteOutcomeAsync(
                static async (context, state) =>
                {
                    state.call?.HttpAttemptStarting();
                    try
                    {
                        var response = await state.self.SendOnceAsync(state.request, context.CancellationToken).ConfigureAwait(false);
                        state.call?.HttpHeadersReceived(response);
                        if (response.StatusCode == HttpStatusCode.TooManyRequests)
                        {
                            await ReadQuotaVerdictAsync(response, context, state.self.TimeProvider).ConfigureAwait(false);
                        }
                        else if (!response.IsSuccessStatusCode && state.call is { IsStreaming: false })
                        {
                            await BufferErrorBodyAsync(response, context, state.self.TimeProvider).ConfigureAwait(false);
                        }

                        if (!response.IsSuccessStatusCode)
                        {
                            ForgetTraceContext(state.request);
                        }

                        return Outcome.FromResult(response);
                    }
                    catch (Exception exception)
                    {
                        ForgetTraceContext(state.request);
                        return Outcome.FromException<HttpResponseMessage>(exception);
                    }
                },
                context,
                (self: this, request, call)).ConfigureAwait(false);

            return outcome.Exception switch
            {
                null => outcome.Result!,
                BrokenCircuitException broken => throw new UpstreamException(
                    UpstreamFailure.CircuitOpen, $"Provider '{provider}' is failing and skipped for now (circuit open).", inner: outcome.Exception)
                {
                    Reason = "circuit open",
                    // When the provider is tried again: a caller told 503 can wait that long rather than guess. An
                    // isolation (StreamStartHealth) is the breaker's manual control, for which Polly knows no end.
                    RetryAfter = broken.RetryAfter ?? pipelines.StreamHealthOf(provider).IsolationLeft,
                },
                TimeoutRejectedException => throw new UpstreamException(
                    UpstreamFailure.Timeout, $"Provider '{provider}' sent no response headers in time.", inner: outcome.Exception)
                { Reason = "response headers timeout" },
                _ => RethrowOriginal(outcome.Exception),
            };
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }
    }

    private Task<HttpResponseMessage> SendOnceAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
        base.SendAsync(request, cancellationToken);

    private TimeProvider TimeProvider => pipelines.TimeProvider;

    /// <summary>
    /// Whether a 429 says the quota is gone (<see cref="QuotaExhaustion"/>), for the retry's <c>ShouldHandle</c>, which
    /// must not read a body itself (what it throws escapes Polly with the response undisposed). A response whose body
    /// could not be read is disposed before the failure goes on.
    /// </summary>
    private static async ValueTask ReadQuotaVerdictAsync(HttpResponseMessage response, ResilienceContext context, TimeProvider timeProvider)
    {
        try
        {
            ProviderPipelines.SetQuotaExhausted(context, await QuotaExhaustion.IsReportedByAsync(response, timeProvider, context.CancellationToken).ConfigureAwait(false));
        }
        catch
        {
            response.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Reads an error status's body (<see cref="ErrorBody"/>), bounded in time, before the adapter reads it for its
    /// message: the adapter's read is bounded only by the attempt's clock, which for a call not streamed is the whole
    /// total timeout. Not a stream's: its first-token clock bounds the adapter's read, and, read here, under this
    /// pipeline's timeout too, a body that outlasted it was counted as two failed attempts, the HTTP retry's and the
    /// stream's. A response whose read was cancelled by the caller is disposed before the cancellation goes on.
    /// </summary>
    private static async ValueTask BufferErrorBodyAsync(HttpResponseMessage response, ResilienceContext context, TimeProvider timeProvider)
    {
        try
        {
            await ErrorBody.TryBufferAsync(response, ErrorBody.MaxBytes, timeProvider, context.CancellationToken).ConfigureAwait(false);
        }
        catch
        {
            response.Dispose();
            throw;
        }
    }

    /// <summary>
    /// A retry sends the same request again, and <see cref="HttpClient"/> leaves a <c>traceparent</c> already on it:
    /// the upstream would see every retry as a child of the first, failed attempt's span. Without the header, each
    /// attempt carries its own.
    /// </summary>
    private static void ForgetTraceContext(HttpRequestMessage request)
    {
        foreach (var field in System.Diagnostics.DistributedContextPropagator.Current.Fields)
        {
            request.Headers.Remove(field);
        }
    }

    private static HttpResponseMessage RethrowOriginal(Exception exception)
    {
        System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(exception);
        return null!;
    }
}
