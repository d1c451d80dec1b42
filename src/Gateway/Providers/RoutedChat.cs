using System.Diagnostics;
using System.Runtime.CompilerServices;
using Gateway.Resilience;
using Gateway.Telemetry;
using Microsoft.Extensions.AI;

namespace Gateway.Providers;

/// <summary>
/// Sends a chat request to an alias: to its deployments in priority order, each retried on its own budget while
/// nothing has reached the caller, skipping those whose circuit is open. Once the first token is out, the stream
/// is never retried: a later failure is the caller's to report.
/// </summary>
internal sealed class RoutedChat(ProviderPipelines pipelines, GatewayMetrics metrics, ILogger<RoutedChat> logger)
{
    public async IAsyncEnumerable<ChatResponseUpdate> StreamAsync(
        ModelRoute route,
        IReadOnlyList<ChatMessage> messages,
        ChatOptions options,
        RouteTrace? trace,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        trace ??= new RouteTrace();
        using var routing = GatewayActivities.StartRouting(route.Alias);
        using var total = TotalTimeout(route, cancellationToken);
        trace.Deadline = total.Token;
        await using var attempt = await FirstSucceedingAsync(
            route,
            trace,
            isStreaming: true,
            static (call, deploymentOptions, state, token) => StreamAttempt.StartAsync(
                call, state.messages, deploymentOptions, state.pipelines.TimeProvider, state.cancellationToken, token),
            (messages, pipelines, cancellationToken),
            options,
            total,
            routing,
            cancellationToken).ConfigureAwait(false);

        // The failure of a stream under way marks the routing span too, when one records: a frame per chunk then, none
        // without a listener.
        var finished = false;
        while (routing is { IsAllDataRequested: true }
            ? await MoveNextTracedAsync(attempt, routing, cancellationToken).ConfigureAwait(false)
            : await attempt.MoveNextAsync().ConfigureAwait(false))
        {
            finished |= attempt.Current.FinishReason is not null;
            yield return attempt.Current;
        }

        // A stream that stops without saying why was cut off: its text must not pass for a whole answer, in /v1's
        // stream or a flow's node (both read the finish reason as given).
        if (!finished)
        {
            var cutOff = new UpstreamException(UpstreamFailure.Protocol, "The upstream stream ended without a finish reason.");
            RoutingFailed(routing, cutOff);
            throw cutOff;
        }
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))] // once per chunk while a span records
    private static async ValueTask<bool> MoveNextTracedAsync(StreamAttempt attempt, Activity routing, CancellationToken cancellationToken)
    {
        try
        {
            return await attempt.MoveNextAsync().ConfigureAwait(false);
        }
        catch (UpstreamException exception) when (!cancellationToken.IsCancellationRequested)
        {
            RoutingFailed(routing, exception);
            throw;
        }
    }

    /// <summary>
    /// A routed call that failed, whether before its first token or after: its span says why, as its metrics do. Not
    /// a call its caller left (or the shutdown drain stopped), whose abort may surface as an upstream failure.
    /// </summary>
    private static void RoutingFailed(Activity? routing, UpstreamException exception) =>
        GatewayActivities.Failed(routing, UpstreamErrorCodes.Of(exception), FailureClassifier.Describe(exception));

    public async Task<ChatResponse> CompleteAsync(
        ModelRoute route, IReadOnlyList<ChatMessage> messages, ChatOptions options, RouteTrace? trace, CancellationToken cancellationToken)
    {
        trace ??= new RouteTrace();
        using var routing = GatewayActivities.StartRouting(route.Alias);
        using var total = TotalTimeout(route, cancellationToken);
        return await FirstSucceedingAsync(
            route,
            trace,
            isStreaming: false,
            static async (call, deploymentOptions, messages, token) =>
            {
                UpstreamCall.Current = call;
                return await call.Deployment.Client.GetResponseAsync(messages, deploymentOptions, token).ConfigureAwait(false);
            },
            messages,
            options,
            total,
            routing,
            cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Tries each deployment in turn, through its stream-start pipeline (retries on the deployment's budget), and
    /// returns the first success. Throws the last failure when none succeeds or when one must not fall back, and a
    /// timeout when <paramref name="total"/> runs out first: in a retry's or a <c>Retry-After</c>'s wait, in an
    /// attempt, or between deployments. The failure it throws marks <paramref name="routing"/>, unless its caller left.
    /// </summary>
    private async Task<TResult> FirstSucceedingAsync<TResult, TState>(
        ModelRoute route,
        RouteTrace trace,
        bool isStreaming,
        Func<UpstreamCall, ChatOptions, TState, CancellationToken, ValueTask<TResult>> start,
        TState state,
        ChatOptions options,
        TimeoutSource total,
        Activity? routing,
        CancellationToken callerToken)
    {
        var failures = default(RouteFailures);
        try
        {
            for (var i = 0; ; i++)
            {
                var deployment = route.Deployments[i];
                trace.Attempts++;
                trace.Deployment = deployment;
                using var attempt = GatewayActivities.StartAttempt(route.Alias, deployment.Provider, deployment.Model, trace.Attempts);
                var call = new UpstreamCall(route.Alias, deployment, trace, pipelines.OptionsFor(deployment), isStreaming, attempt, metrics, logger);
                var deploymentOptions = ForDeployment(options, deployment);
                var context = Polly.ResilienceContextPool.Shared.Get(total.Token);
                ProviderPipelines.Attach(context, call);
                var health = pipelines.StreamHealthOf(deployment.Provider);
                try
                {
                    await health.BeforeAttemptAsync().ConfigureAwait(false);
                    var result = await pipelines.ForStreamStart(deployment.Provider).ExecuteAsync(
                        static (context, s) => s.start(s.call, s.deploymentOptions, s.state, context.CancellationToken),
                        context,
                        (start, call, deploymentOptions, state)).ConfigureAwait(false);
                    if (isStreaming)
                    {
                        await health.StartedAsync().ConfigureAwait(false);
                    }

                    return result;
                }
                // A caller who left is no failure to count or to fall back from (an abort can surface as a connection error).
                catch (UpstreamException exception) when (!callerToken.IsCancellationRequested)
                {
                    // One that failed past its headers, where the provider's breaker saw a success, counts against it here.
                    if (call.StreamOpened && FailureClassifier.IsRetryable(exception))
                    {
                        await health.FailedAfterHeadersAsync().ConfigureAwait(false);
                    }

                    Failed(attempt, call, trace, exception);
                    failures.Add(exception);
                    if (i + 1 >= route.Deployments.Count || !FailureClassifier.ShouldFallBack(exception))
                    {
                        failures.MarkLast(exception);
                        throw;
                    }

                    var next = route.Deployments[i + 1];
                    var reason = FailureClassifier.Describe(exception);
                    metrics.FallingBack(route.Alias, deployment.Provider, reason);
                    RetryLog.FallingBack(
                        logger, route.Alias, deployment.Provider, deployment.Model, next.Provider, next.Model, trace.Attempts + 1, reason,
                        call.ResponseId ?? UpstreamRequestId.None);
                    trace.OnRetrying?.Invoke(new RouteRetry(trace.Attempts + 1, TimeSpan.Zero, reason, next.Provider, next.Model, IsFallback: true, call.ResponseId));
                }
                finally
                {
                    trace.UpstreamRequestId = call.ResponseId;
                    Polly.ResilienceContextPool.Shared.Return(context);
                }
            }
        }
        catch (OperationCanceledException exception) when (total.IsCancellationRequested && !callerToken.IsCancellationRequested)
        {
            var seconds = pipelines.OptionsFor(route.Deployments[0].Provider).TotalTimeoutSeconds;
            var timeout = new UpstreamException(UpstreamFailure.Timeout, $"the total timeout of {seconds:0.###} s ran out.", inner: exception)
            {
                Reason = UpstreamException.TotalTimeoutReason,
            };
            RoutingFailed(routing, timeout);
            throw timeout;
        }
        catch (UpstreamException exception) when (!callerToken.IsCancellationRequested)
        {
            RoutingFailed(routing, exception);
            throw;
        }
    }

    /// <summary>
    /// Marks the attempt's span failed, and takes back a counted attempt that an open circuit refused before it was
    /// sent: <c>X-Gateway-Attempts</c> and a node's <c>attempts</c> count requests that reached an upstream.
    /// </summary>
    private static void Failed(Activity? attempt, UpstreamCall call, RouteTrace trace, UpstreamException exception)
    {
        if (exception.Failure == UpstreamFailure.CircuitOpen && !call.AttemptSent)
        {
            trace.Attempts--;
        }

        if (attempt is { IsAllDataRequested: true })
        {
            // The same error.type as the call's metrics and summary line, not the failure's enum name.
            GatewayActivities.Failed(attempt, UpstreamErrorCodes.Of(exception), FailureClassifier.Describe(exception));
        }
    }

    /// <summary>Cancels when the caller does or when the route's total timeout runs out, whichever comes first.</summary>
    private TimeoutSource TotalTimeout(ModelRoute route, CancellationToken cancellationToken) =>
        new(pipelines.OptionsFor(route.Deployments[0].Provider).TotalTimeout, pipelines.TimeProvider, cancellationToken);

    private static ChatOptions ForDeployment(ChatOptions options, Deployment deployment)
    {
        var copy = options.Clone();
        copy.ModelId = deployment.Model;
        return copy;
    }
}
