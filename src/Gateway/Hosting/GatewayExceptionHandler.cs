using Gateway.Storage;
using Microsoft.AspNetCore.Diagnostics;

namespace Gateway.Hosting;

/// <summary>
/// The last line of defence: a caller's bad request that the framework rejected (too large, unreadable) keeps
/// its 4xx, a store that cannot be used for now (locked, full, unreachable) is a 503 to retry, anything else is a
/// logged 500 that names nothing of the exception. The body is the surface's error shape: the OpenAI error under /v1,
/// ProblemDetails (the reason phrase as title, the message as detail) elsewhere. A failure about a run is logged with
/// its id and answered with <c>X-Run-Id</c>.
/// </summary>
internal sealed partial class GatewayExceptionHandler(ILogger<GatewayExceptionHandler> logger) : IExceptionHandler
{
    /// <summary>Where a request that made a run keeps its id (<see cref="HttpContext.Items"/>) until its answer is written.</summary>
    public static readonly object RunIdItem = new();

    /// <summary>What a caller is told of a store that cannot be used for now; the OpenAPI document's 503 says the same.</summary>
    public const string StoreUnavailableMessage = "The gateway's store cannot be used right now (busy, full or unreachable). Retry shortly.";

    /// <summary>
    /// What a caller is told of a store that no wait brings back (its SQLite file deleted or replaced under the gateway,
    /// <see cref="StoreFileGoneException"/>): with "Retry shortly" and a Retry-After, a client that follows them retried
    /// for as long as no one restarted the gateway. The log names the file and says to restart.
    /// </summary>
    public const string StoreGoneMessage = "The gateway's store cannot be used until the gateway is restarted: waiting will not bring it back.";

    /// <summary>
    /// The wait a store's 503 suggests: a lock held elsewhere or a failover passes in seconds, and the SDKs, which retry a
    /// 503 by themselves, wait this long rather than their own sub-second backoff.
    /// </summary>
    public static readonly TimeSpan StoreRetryAfter = TimeSpan.FromSeconds(2);

    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        if (exception is Microsoft.AspNetCore.Connections.ConnectionResetException)
        {
            // The caller reset the connection while its request was read: nothing failed, and no one is left to answer.
            // Until 2026-12-06 this was logged as the gateway's failure, with a stack trace, and counted as a 500. The
            // abort also keeps Kestrel from draining a body whose read the reset broke, which it logs as an error.
            httpContext.Response.StatusCode = StatusCodes.Status499ClientClosedRequest;
            httpContext.Abort();
            return true;
        }

        var storeUnavailable = StoreErrors.IsUnavailable(exception);
        var storeMayHeal = StoreErrors.MayHeal(exception); // not a file deleted or replaced under the gateway
        var status = exception is BadHttpRequestException badRequest ? badRequest.StatusCode
            : storeUnavailable ? StatusCodes.Status503ServiceUnavailable
            : StatusCodes.Status500InternalServerError;
        var message = status < 500 ? exception.Message
            : storeUnavailable ? (storeMayHeal ? StoreUnavailableMessage : StoreGoneMessage)
            : "The gateway failed to handle the request.";
        var runId = RunIdOf(httpContext);
        if (runId is not null)
        {
            // The exception handler cleared the response's headers: the run's id is put back.
            httpContext.Response.Headers[Runs.RunLauncher.RunIdHeader] = runId;
        }

        if (storeMayHeal)
        {
            httpContext.Response.SetRetryAfter(StoreRetryAfter);
        }

        if (storeUnavailable)
        {
            // A known condition with its own answer (a 503 and a wait), logged once per request with its reason: a store
            // away for minutes logged a 30-line stack trace for each.
            LogStoreUnavailable(logger, httpContext.Request.Method, httpContext.Request.Path, runId ?? "none", exception.Message);
        }
        else if (status >= 500)
        {
            if (runId is null)
            {
                LogUnhandled(logger, exception, httpContext.Request.Method, httpContext.Request.Path);
            }
            else
            {
                LogUnhandledForRun(logger, exception, httpContext.Request.Method, httpContext.Request.Path, runId);
            }
        }

        // The same writer as every other error: the surface's shape, and a body even when the caller's Accept
        // (an EventSource's text/event-stream) rules out the problem+json writer.
        await httpContext.WriteErrorAsync(status, message);
        return true;
    }

    /// <summary>
    /// The run a request made (<see cref="RunIdItem"/>) or names in its path: the feature's copy of the route values, as
    /// the handler clears the request's own. Only an id of the gateway's own shape: a path may hold any text.
    /// </summary>
    private static string? RunIdOf(HttpContext httpContext) =>
        (httpContext.Items[RunIdItem] ?? httpContext.Features.Get<IExceptionHandlerFeature>()?.RouteValues?["runId"]) is string runId
            && Runs.RunIds.IsWellFormed(runId)
            ? runId
            : null;

    [LoggerMessage(Level = LogLevel.Warning, Message = "The store is unavailable on {Method} {Path} (run {RunId}), answered 503: {Reason}")]
    private static partial void LogStoreUnavailable(ILogger logger, string method, PathString path, string runId, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Unhandled error on {Method} {Path}")]
    private static partial void LogUnhandled(ILogger logger, Exception exception, string method, PathString path);

    [LoggerMessage(Level = LogLevel.Error, Message = "Unhandled error on {Method} {Path} for run {RunId}")]
    private static partial void LogUnhandledForRun(ILogger logger, Exception exception, string method, PathString path, string runId);
}
