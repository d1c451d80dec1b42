using System.Net;
using Gateway.Providers;
using Polly.CircuitBreaker;
using Polly.Timeout;

namespace Gateway.Resilience;

/// <summary>Which failures are worth another attempt, which are worth another deployment, and how to name them.</summary>
internal static class FailureClassifier
{
    /// <summary>Connect errors, 408, 429 and 5xx: the upstream may well answer next time.</summary>
    public static bool IsTransient(HttpStatusCode status) =>
        status is HttpStatusCode.RequestTimeout or HttpStatusCode.TooManyRequests || (int)status >= 500;

    /// <summary>An HTTP outcome that counts as a failure, for retries (and, but for a rate limit, the circuit breaker).</summary>
    public static bool IsTransient(HttpResponseMessage? response, Exception? exception) => exception switch
    {
        HttpRequestException or TimeoutRejectedException => true,
        null => response is not null && IsTransient(response.StatusCode),
        _ => false,
    };

    /// <summary>
    /// An HTTP outcome that counts against the provider's circuit: a transient failure, but not a 429 that asks for a
    /// wait. Providers limit each model on its own (OpenAI's limits are per model), so one model's rate limit opened
    /// the circuit for every model of its provider, and their callers got 503s while their own limits were far off.
    /// A 429 whose account is out of quota (<paramref name="quotaExhausted"/>) does count: no model of it can answer.
    /// </summary>
    public static bool BreaksCircuit(HttpResponseMessage? response, Exception? exception, bool quotaExhausted) =>
        IsTransient(response, exception) && (response?.StatusCode != HttpStatusCode.TooManyRequests || quotaExhausted);

    /// <summary>
    /// A failure before the first token that another attempt at the same deployment may cure. Not the total timeout:
    /// the request has no time left for one.
    /// </summary>
    public static bool IsRetryable(UpstreamException exception) => exception.Failure switch
    {
        UpstreamFailure.Status => exception.Status is { } status && IsTransient(status) && !QuotaExhaustion.Of(exception),
        UpstreamFailure.CircuitOpen => false,
        _ => !exception.IsTotalTimeout,
    };

    /// <summary>
    /// Whether the next deployment should be tried. Not for the caller's own mistakes (400, 404, 422, ...):
    /// another deployment would refuse them too, and the caller must see the reason. A deployment that answers
    /// 401/403, 407 (its way out goes through a proxy that wants credentials) or redirects (3xx: redirects are not
    /// followed) is misconfigured, and the next one may not be; one whose account has run out of quota
    /// (<see cref="QuotaExhaustion"/>) cannot serve, and the next one may.
    /// </summary>
    public static bool ShouldFallBack(UpstreamException exception) =>
        (!exception.IsTotalTimeout && exception.Failure != UpstreamFailure.Status)
        || exception.Status is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden or HttpStatusCode.ProxyAuthenticationRequired
        || QuotaExhaustion.Of(exception)
        || (int)(exception.Status ?? 0) is >= 300 and < 400
        || IsRetryable(exception);

    public static string Describe(UpstreamException exception) => exception.Reason ?? exception.Failure switch
    {
        // Not a plain 429 (a rate limit, a wait away): the account is out of credit, and the log should say which.
        UpstreamFailure.Status when QuotaExhaustion.Of(exception) => "quota exhausted (HTTP 429)",
        UpstreamFailure.Status => $"HTTP {(int)(exception.Status ?? 0)}",
        UpstreamFailure.Connection => "connection failed",
        UpstreamFailure.StreamError => "error event",
        UpstreamFailure.Protocol => "malformed response",
        UpstreamFailure.Timeout => "timeout",
        UpstreamFailure.CircuitOpen => "circuit open",
        _ => "failure",
    };

    public static string Describe(HttpResponseMessage? response, Exception? exception) => exception switch
    {
        TimeoutRejectedException => "response headers timeout",
        HttpRequestException => "connection failed",
        BrokenCircuitException => "circuit open",
        null when response is not null => $"HTTP {(int)response.StatusCode}",
        _ => exception?.GetType().Name ?? "failure",
    };
}
