using System.Net;

namespace Gateway.Providers;

/// <summary>Why an upstream call failed; decides whether it may be retried and what the caller is told.</summary>
internal enum UpstreamFailure
{
    /// <summary>No connection, or it broke before or while the response came.</summary>
    Connection,

    /// <summary>The upstream answered with a non-success HTTP status.</summary>
    Status,

    /// <summary>The upstream answered 200 and then reported an error inside the stream.</summary>
    StreamError,

    /// <summary>The upstream sent something that is not a valid chat completion (bad JSON, wrong shape).</summary>
    Protocol,

    /// <summary>The upstream did not answer in time.</summary>
    Timeout,

    /// <summary>The provider's circuit breaker is open: it failed too often lately and is skipped for a while.</summary>
    CircuitOpen,
}

/// <summary>
/// The one exception a provider adapter lets out. Its message is safe to show a caller: it never holds a key.
/// </summary>
internal sealed class UpstreamException(UpstreamFailure failure, string message, HttpStatusCode? status = null, Exception? inner = null)
    : Exception(message, inner)
{
    public UpstreamFailure Failure { get; } = failure;

    /// <summary>The upstream's HTTP status, for <see cref="UpstreamFailure.Status"/>.</summary>
    public HttpStatusCode? Status { get; } = status;

    /// <summary>
    /// The delay the upstream asked for, if it sent <c>Retry-After</c> (or the break an open circuit has left). On a
    /// routed call's last failure, when every deployment was a wait, the shortest any of them named (<see cref="RouteFailures"/>).
    /// </summary>
    public TimeSpan? RetryAfter { get; set; }

    /// <summary>A short name for the failure (e.g. <c>first-token timeout</c>), used in retry reports.</summary>
    public string? Reason { get; init; }

    /// <summary>The <see cref="Reason"/> of a request whose total timeout ran out: it has no time left for another attempt.</summary>
    public const string TotalTimeoutReason = "total timeout";

    public bool IsTotalTimeout => Reason == TotalTimeoutReason;

    /// <summary>
    /// Set on a routed call's last failure when an earlier deployment failed another way (a 500, then a 429): "every
    /// deployment is rate limited" would be untrue, and a caller told so, with a <c>Retry-After</c>, retries the whole
    /// chain (an SDK's two retries made one call of 500 then 429 reach the upstreams 18 times).
    /// </summary>
    public bool EarlierFailedOtherwise { get; set; }

    /// <summary>
    /// Set on a routed call's last failure, a 429 or an open circuit, when an earlier deployment was the other of the
    /// two: every deployment is a wait away, but not every one is rate limited (or unavailable).
    /// </summary>
    public bool WaitedOtherwise { get; set; }

    /// <summary>A 429 whose body says the account is out of credit (<see cref="QuotaExhaustion"/>).</summary>
    public bool QuotaExhausted { get; init; }

    /// <summary>The upstream's own error code (e.g. <c>model_not_found</c>), when it gave one.</summary>
    public string? UpstreamCode { get; init; }

    /// <summary>The request parameter the upstream named as wrong (e.g. <c>messages</c>), when it named one.</summary>
    public string? UpstreamParam { get; init; }

    /// <summary>
    /// What the transport said ("Connection refused (llm.internal:8000)"), for the gateway's own log only: it names
    /// hosts and ports, which a caller is not told.
    /// </summary>
    public string? TransportDetail { get; init; }

    /// <summary>The message with the transport's words, when there are any: what the gateway logs.</summary>
    public string LogText => TransportDetail is null ? Message : $"{Message} ({TransportDetail})";
}
