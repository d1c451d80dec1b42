using Gateway.Hosting;
using Gateway.Providers;
using Gateway.Security;

namespace Gateway.Chat;

/// <summary>What a /v1 caller is told, and with which status, when something went wrong.</summary>
internal static class ChatErrors
{
    public static IResult Result(int status, OpenAiError error, TimeSpan? retryAfter = null)
    {
        var result = TypedResults.Json(new OpenAiErrorResponse(error), ChatJsonContext.Wire.OpenAiErrorResponse, statusCode: status);
        return retryAfter is { } delay ? new WithRetryAfter(result, delay) : result;
    }

    public static IResult ModelNotFound(string model) => ModelError(
        StatusCodes.Status404NotFound,
        $"The model '{model}' does not exist. GET /v1/models lists the models this gateway serves.",
        "model_not_found");

    public static IResult ModelNotAllowed(string model) => ModelError(
        StatusCodes.Status403Forbidden,
        $"This API key may not use the model '{model}'. GET /v1/models lists the models it may use.",
        "model_not_allowed");

    private static IResult ModelError(int status, string message, string code) =>
        Result(status, new OpenAiError { Message = message, Type = "invalid_request_error", Param = "model", Code = code });

    /// <summary>
    /// The key's <c>TokensPerMinute</c> cannot cover the request's estimate yet. A wait longer than the SDKs honour
    /// tells them not to retry (<see cref="NotRetriedPastSdkWait"/>).
    /// </summary>
    public static IResult TokenLimitReached(TimeSpan retryAfter) => NotRetriedPastSdkWait(
        Result(
            StatusCodes.Status429TooManyRequests,
            new OpenAiError
            {
                Message = $"Token rate limit reached for this API key. Retry after {ErrorResponses.RetryAfterSeconds(retryAfter)} s.",
                Type = "tokens",
                Code = RequestRateLimiting.LimitExceededCode,
            },
            retryAfter),
        retryAfter);

    public const string ShuttingDownCode = "gateway_shutting_down";

    /// <summary>The <c>error.type</c> of a call that the gateway itself failed (a bug, a vanished client mid-write).</summary>
    public const string GatewayErrorCode = "gateway_error";

    /// <summary>The error a call still under way gets when the gateway stops (see <see cref="Streaming.ShutdownDrain"/>).</summary>
    public static OpenAiError ShuttingDown(string alias) => new()
    {
        Message = $"The gateway is shutting down; the call to model '{alias}' was stopped before it finished. Retry it.",
        Type = "server_error",
        Code = ShuttingDownCode,
    };

    /// <summary>
    /// The upstream's verdict on the request itself (400, 404, 422, ...) is passed on; a refused provider key,
    /// an unreachable or failing upstream become 502, 503 or 504, naming the alias.
    /// </summary>
    public static (int Status, OpenAiError Error) FromUpstream(UpstreamException exception, string alias) =>
        (UpstreamErrorCodes.Of(exception), exception.Status) switch
        {
            (UpstreamErrorCodes.Rejected, { } status) => ((int)status, new OpenAiError
            {
                Message = exception.Message,
                Type = "invalid_request_error",
                Code = exception.UpstreamCode,
                Param = exception.UpstreamParam,
            }),
            (UpstreamErrorCodes.AuthFailed, _) => (StatusCodes.Status502BadGateway, Upstream(exception.Message, UpstreamErrorCodes.AuthFailed)),
            (UpstreamErrorCodes.QuotaExhausted, _) => (StatusCodes.Status502BadGateway, Upstream(UpstreamErrorCodes.Describe(exception, alias), UpstreamErrorCodes.QuotaExhausted)),
            (UpstreamErrorCodes.RateLimited or UpstreamErrorCodes.Unavailable, _) and (var code, _) =>
                (StatusCodes.Status503ServiceUnavailable, Upstream(UpstreamErrorCodes.Describe(exception, alias), code)),
            (UpstreamErrorCodes.Timeout, _) => (StatusCodes.Status504GatewayTimeout, Upstream(UpstreamErrorCodes.Describe(exception, alias), UpstreamErrorCodes.Timeout)),
            _ => (StatusCodes.Status502BadGateway, Upstream(UpstreamErrorCodes.Describe(exception, alias), UpstreamErrorCodes.Error)),
        };

    /// <summary>
    /// What metrics and the call's summary line call an upstream failure's <c>error.type</c>: one of the gateway's own
    /// codes. Not the code in the caller's error body, which for a rejection is the upstream's own (any text an
    /// OpenAI-compatible server chooses), and as a metric label would grow a series per value.
    /// </summary>
    public static string TypeOf(UpstreamException exception) => UpstreamErrorCodes.Of(exception);

    private static OpenAiError Upstream(string message, string code) =>
        new() { Message = message, Type = "upstream_error", Code = code };

    /// <summary>
    /// An upstream failure the gateway has already retried and fallen back from. <c>x-should-retry: false</c> keeps the
    /// OpenAI SDKs, which retry a 5xx twice by default, from running the whole chain again on top (with two retries
    /// and two deployments, one call reached a failing provider 18 times). A rate-limited 503 keeps its
    /// <c>Retry-After</c> and no such header: waiting that long and trying again is what it asks for.
    /// </summary>
    public static IResult UpstreamFailed(int status, OpenAiError error, TimeSpan? retryAfter) =>
        retryAfter is null && status >= StatusCodes.Status500InternalServerError ? new WithoutClientRetry(Result(status, error))
        : NotRetriedPastSdkWait(Result(status, error, retryAfter), retryAfter);

    /// <summary>
    /// The SDKs ignore a wait past a minute and retry within seconds instead (an upstream's day-long Retry-After made one
    /// call reach it 9 times): the wait is passed on, for whoever reads it, and the SDK told not to retry.
    /// </summary>
    private static IResult NotRetriedPastSdkWait(IResult result, TimeSpan? retryAfter) =>
        retryAfter > SdkLongestWait ? new WithoutClientRetry(result) : result;

    /// <summary>The longest Retry-After the OpenAI SDKs wait out; past it they retry on their own backoff.</summary>
    private static readonly TimeSpan SdkLongestWait = TimeSpan.FromSeconds(60);

    /// <summary>The header the OpenAI SDKs read before deciding to retry a failed request themselves.</summary>
    public const string ShouldRetryHeader = "x-should-retry";

    private sealed class WithoutClientRetry(IResult inner) : IResult
    {
        public Task ExecuteAsync(HttpContext httpContext)
        {
            httpContext.Response.Headers[ShouldRetryHeader] = "false";
            return inner.ExecuteAsync(httpContext);
        }
    }

    /// <summary>Adds <c>Retry-After</c> (whole seconds, rounded up) to an error result.</summary>
    private sealed class WithRetryAfter(IResult inner, TimeSpan delay) : IResult
    {
        public Task ExecuteAsync(HttpContext httpContext)
        {
            httpContext.Response.SetRetryAfter(delay);
            return inner.ExecuteAsync(httpContext);
        }
    }
}
