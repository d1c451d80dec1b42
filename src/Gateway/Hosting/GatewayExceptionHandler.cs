using System.Data.Common;
using Microsoft.AspNetCore.Diagnostics;

namespace Gateway.Hosting;

/// <summary>
/// The last line of defence: a caller's bad request that the framework rejected (too large, unreadable) keeps
/// its 4xx, a store that cannot be used (locked, full, unreachable) is a 503 to retry, anything else is a logged 500
/// that names nothing of the exception. The body is the surface's error shape: the OpenAI error under /v1,
/// ProblemDetails (the reason phrase as title, the message as detail) elsewhere. A failure about a run is logged with
/// its id and answered with <c>X-Run-Id</c>.
/// </summary>
internal sealed partial class GatewayExceptionHandler(ILogger<GatewayExceptionHandler> logger) : IExceptionHandler
{
    /// <summary>Where a request that made a run keeps its id (<see cref="HttpContext.Items"/>) until its answer is written.</summary>
    public static readonly object RunIdItem = new();

    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        var storeFailed = exception is DbException or TimeoutException;
        var status = exception is BadHttpRequestException badRequest ? badRequest.StatusCode
            : storeFailed ? StatusCodes.Status503ServiceUnavailable
            : StatusCodes.Status500InternalServerError;
        var message = status < 500 ? exception.Message
            : storeFailed ? "The gateway's store cannot be used right now (busy, full or unreachable). Retry shortly."
            : "The gateway failed to handle the request.";
        // The exception handler cleared the response's headers: the run's id is put back.
        var runId = httpContext.Items[RunIdItem] as string ?? httpContext.GetRouteValue("runId") as string;
        if (runId is not null)
        {
            httpContext.Response.Headers[Runs.RunLauncher.RunIdHeader] = runId;
        }

        if (status >= 500 && runId is null)
        {
            LogUnhandled(logger, exception, httpContext.Request.Method, httpContext.Request.Path);
        }
        else if (status >= 500)
        {
            LogUnhandledForRun(logger, exception, httpContext.Request.Method, httpContext.Request.Path, runId!);
        }

        // The same writer as every other error: the surface's shape, and a body even when the caller's Accept
        // (an EventSource's text/event-stream) rules out the problem+json writer.
        await httpContext.WriteErrorAsync(status, message);
        return true;
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Unhandled error on {Method} {Path}")]
    private static partial void LogUnhandled(ILogger logger, Exception exception, string method, PathString path);

    [LoggerMessage(Level = LogLevel.Error, Message = "Unhandled error on {Method} {Path} for run {RunId}")]
    private static partial void LogUnhandledForRun(ILogger logger, Exception exception, string method, PathString path, string runId);
}
