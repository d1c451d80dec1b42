using System.Diagnostics;
using Gateway.Providers;
using Gateway.Telemetry;

namespace Gateway.Resilience;

/// <summary>
/// The attempts at one deployment for one request. It travels (as an async-local) beneath the OpenAI SDK to the
/// provider's <see cref="ResilienceHandler"/>, so that retries of the HTTP call and retries of a stream that failed
/// before its first token draw on one budget, are reported the same way, and share one first-token clock.
/// </summary>
internal sealed class UpstreamCall(
    string alias,
    Deployment deployment,
    RouteTrace trace,
    ResilienceOptions options,
    bool isStreaming,
    Activity? span,
    GatewayMetrics metrics,
    ILogger logger)
{
    private static readonly AsyncLocal<UpstreamCall?> CurrentCall = new();

    private CancellationTokenSource? _firstTokenTimer;
    private long _attemptStartedAt;
    private bool _retryAnnounced;

    /// <summary>Why the retry announced last is due, until its request is sent and <c>gateway_retries_total</c> counts it.</summary>
    private string? _retryToSend;

    /// <summary>
    /// Whether the deployment's attempts go through its HTTP pipeline (<see cref="HttpAttemptStarting"/>), where an
    /// open circuit may still refuse one: a retry is sent there. A client without one (the simulated provider) sends
    /// a stream's retry as it starts.
    /// </summary>
    private bool _overHttp;
    private TimeProvider _timeProvider = TimeProvider.System;

    /// <summary>The call being made on this async flow, if it was routed.</summary>
    public static UpstreamCall? Current
    {
        get => CurrentCall.Value;
        set => CurrentCall.Value = value;
    }

    public Deployment Deployment { get; } = deployment;

    public ResilienceOptions Options { get; } = options;

    public bool IsStreaming { get; } = isStreaming;

    /// <summary><see cref="RouteTrace.ThinkingReachesCaller"/>.</summary>
    public bool ThinkingReachesCaller => trace.ThinkingReachesCaller;

    public int RetriesUsed { get; private set; }

    public bool CanRetry => RetriesUsed < Options.MaxRetries;

    /// <summary>
    /// Whether the attempt last counted in the trace sent its request. Not when an open circuit refused it before the
    /// send: a first attempt, or a stream-level retry (counted as it starts). An HTTP-level retry is counted only as it
    /// sends, and a retry the circuit had already refused when it was due is not announced, so neither is counted.
    /// </summary>
    public bool AttemptSent { get; private set; }

    /// <summary>
    /// Whether the current attempt's response came with a success status: a failure from then on, before the first
    /// token, is one the provider's breaker did not see (<see cref="StreamStartHealth"/>).
    /// </summary>
    public bool StreamOpened { get; private set; }

    /// <summary>
    /// The upstream's id (<see cref="UpstreamRequestId"/>) for the last response this deployment sent: null until one
    /// comes, and again from the moment a new request is sent until its headers are in. A retry or an open circuit that
    /// sends nothing leaves it as it was, so a line about the failure names the response that failed.
    /// </summary>
    public string? ResponseId { get; private set; }

    /// <summary>The timer that bounds the wait for a streamed attempt's first token.</summary>
    public void UseFirstTokenTimer(CancellationTokenSource timer, TimeProvider timeProvider)
    {
        _firstTokenTimer = timer;
        _timeProvider = timeProvider;
        _attemptStartedAt = timeProvider.GetTimestamp();
    }

    /// <summary>Forgets a timer whose attempt is over, so a retry of the same deployment never touches it.</summary>
    public void ReleaseFirstTokenTimer(CancellationTokenSource timer)
    {
        if (ReferenceEquals(_firstTokenTimer, timer))
        {
            _firstTokenTimer = null;
        }
    }

    /// <summary>
    /// An HTTP attempt begins: until its headers arrive the handler's per-attempt timeout bounds it, so the
    /// first-token clock only notes the start and pauses.
    /// </summary>
    public void HttpAttemptStarting()
    {
        CountAnnouncedRetry();
        _overHttp = true;
        CountRetrySent();
        AttemptSent = true;
        StreamOpened = false;
        ResponseId = null;
        _attemptStartedAt = _timeProvider.GetTimestamp();
        _firstTokenTimer?.CancelAfter(Timeout.InfiniteTimeSpan);
    }

    /// <summary>Headers are in: the first token is due within what is left of the first-token timeout.</summary>
    /// <param name="response">The attempt's response: its status, and the upstream's id for it.</param>
    public void HttpHeadersReceived(HttpResponseMessage response)
    {
        StreamOpened = response.IsSuccessStatusCode && IsStreaming;
        ResponseId = UpstreamRequestId.Of(response);
        if (ResponseId is not null)
        {
            span?.SetTag(GatewayActivities.UpstreamRequestIdTag, ResponseId);
        }

        if (_firstTokenTimer is null)
        {
            return;
        }

        var left = Options.FirstTokenTimeout - _timeProvider.GetElapsedTime(_attemptStartedAt);
        _firstTokenTimer.CancelAfter(left > TimeSpan.Zero ? left : TimeSpan.FromTicks(1));
    }

    /// <summary>
    /// Reports a retry of this deployment, which is about to wait <paramref name="delay"/>. It draws on the retry
    /// budget now, but joins the trace's attempts only when it starts, and <c>gateway_retries_total</c> only when its
    /// request is sent: a caller that leaves during the wait (a long <c>Retry-After</c>, say) must not be told, in the
    /// log line or the run record, of an attempt the upstream never saw, nor the metric count it.
    /// </summary>
    public void Retrying(TimeSpan delay, string reason)
    {
        RetriesUsed++;
        _retryAnnounced = true;
        _retryToSend = reason;
        _firstTokenTimer?.CancelAfter(Timeout.InfiniteTimeSpan);
        var attempt = trace.Attempts + 1;
        GatewayActivities.Retrying(span, attempt, delay, reason);
        RetryLog.Retrying(logger, alias, Deployment.Provider, Deployment.Model, attempt, (long)delay.TotalMilliseconds, reason, ResponseId ?? UpstreamRequestId.None);
        trace.OnRetrying?.Invoke(new RouteRetry(attempt, delay, reason, Deployment.Provider, Deployment.Model, IsFallback: false, ResponseId));
    }

    /// <summary>A new attempt at the same deployment starts after a stream-level retry: the first-token clock restarts.</summary>
    public void StreamAttemptStarting()
    {
        // A retry that the provider's open circuit will refuse is not announced, so not counted: the attempt last
        // counted, which was sent, stays the one AttemptSent speaks of.
        if (CountAnnouncedRetry())
        {
            AttemptSent = false;
        }

        if (!_overHttp)
        {
            CountRetrySent();
        }

        StreamOpened = false;
        _attemptStartedAt = _timeProvider.GetTimestamp();
        _firstTokenTimer?.CancelAfter(Options.FirstTokenTimeout);
    }

    /// <summary>The upstream failed after the answer's finish reason, which ended the answer whole: said in the log, not to the caller.</summary>
    public void FailedAfterFinish(string failure) =>
        RetryLog.FailedAfterFinish(logger, alias, Deployment.Provider, Deployment.Model, failure, ResponseId ?? UpstreamRequestId.None);

    /// <summary>This attempt failed while its model thought, where the thinking reaches no one (<see cref="RouteTrace.ThinkingTokensLost"/>).</summary>
    public void LostWhileThinking(long thinkingChunks) => trace.LostWhileThinking(thinkingChunks);

    /// <summary>The retry announced by <see cref="Retrying"/> is being sent: <c>gateway_retries_total</c> counts it.</summary>
    private void CountRetrySent()
    {
        if (_retryToSend is { } reason)
        {
            _retryToSend = null;
            metrics.Retrying(alias, Deployment.Provider, reason);
        }
    }

    /// <summary>The retry announced by <see cref="Retrying"/> has started: it is now one of the trace's attempts.</summary>
    private bool CountAnnouncedRetry()
    {
        if (!_retryAnnounced)
        {
            return false;
        }

        _retryAnnounced = false;
        trace.Attempts++;
        return true;
    }
}
