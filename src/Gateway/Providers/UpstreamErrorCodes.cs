using System.Net;

namespace Gateway.Providers;

/// <summary>
/// The gateway's one name for each kind of upstream failure, shared by <c>/v1</c> error bodies and flow nodes'
/// <c>node.failed</c> errors, so that the same failure is called the same on both.
/// </summary>
internal static class UpstreamErrorCodes
{
    /// <summary>The provider refused the gateway's key, or a proxy on the way to it wants credentials (407).</summary>
    public const string AuthFailed = "upstream_auth_failed";

    /// <summary>The provider's account has run out of quota (a 429 with <c>insufficient_quota</c>): not a wait away.</summary>
    public const string QuotaExhausted = "upstream_quota_exhausted";

    /// <summary>The last deployment tried answered 429.</summary>
    public const string RateLimited = "upstream_rate_limited";

    /// <summary>The last deployment tried was skipped: its circuit is open.</summary>
    public const string Unavailable = "upstream_unavailable";

    /// <summary>A first-token, idle or total timeout ran out.</summary>
    public const string Timeout = "upstream_timeout";

    /// <summary>
    /// The upstream's verdict on the request itself (400, 404, 422, ...). <c>/v1</c> passes such an answer on with
    /// the upstream's own status and code, as OpenAI's clients expect; a flow node reports it under this name.
    /// </summary>
    public const string Rejected = "upstream_rejected";

    /// <summary>Anything else: a broken connection, a 5xx, a protocol error, an error inside the stream.</summary>
    public const string Error = "upstream_error";

    public static string Of(UpstreamException exception) => exception switch
    {
        { Failure: UpstreamFailure.Status, Status: HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden or HttpStatusCode.ProxyAuthenticationRequired } => AuthFailed,
        { EarlierFailedOtherwise: false } when QuotaExhaustion.Of(exception) => QuotaExhausted,
        { Failure: UpstreamFailure.Status, Status: HttpStatusCode.TooManyRequests, EarlierFailedOtherwise: false } => RateLimited,
        // 408 is the upstream giving up on the request, not judging it: retried, then an error like a 5xx; so is a 429
        // after other failures (EarlierFailedOtherwise).
        { Failure: UpstreamFailure.Status, Status: { } status } when (int)status is >= 400 and < 500
            && status is not HttpStatusCode.RequestTimeout and not HttpStatusCode.TooManyRequests => Rejected,
        { Failure: UpstreamFailure.CircuitOpen, EarlierFailedOtherwise: false } => Unavailable,
        { Failure: UpstreamFailure.Timeout } => Timeout,
        _ => Error,
    };

    /// <summary>
    /// An upstream failure in words that name the alias: what <c>/v1</c> says of a failure that is the gateway's to
    /// report, and what a flow node's <c>node.failed</c> says of any (a node has no status line to carry the
    /// upstream's own verdict, so that one reads "failed" with the upstream's words after it).
    /// </summary>
    public static string Describe(UpstreamException exception, string alias) => Of(exception) switch
    {
        QuotaExhausted => $"Every deployment of model '{alias}' has run out of quota: {exception.Message}",
        RateLimited or Unavailable => $"Every deployment of model '{alias}' is {Waiting(exception)}: {exception.Message}",
        Timeout => $"Model '{alias}' did not answer in time: {exception.Message}",
        _ => $"Model '{alias}' failed: {exception.Message}",
    };

    /// <summary>Why every deployment is a wait away: the last one's reason, or both when the others waited otherwise.</summary>
    private static string Waiting(UpstreamException exception) =>
        exception.WaitedOtherwise ? "rate limited or unavailable"
        : exception.Failure == UpstreamFailure.CircuitOpen ? "unavailable"
        : "rate limited";
}
