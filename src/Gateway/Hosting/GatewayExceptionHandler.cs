using Microsoft.AspNetCore.Diagnostics;

namespace Gateway.Hosting;

/// <summary>
/// The last line of defence: a caller's bad request that the framework rejected (too large, unreadable) keeps
/// its 4xx, anything else is a logged 500 that names nothing of the exception. The body is the surface's error
/// shape: the OpenAI error under /v1, ProblemDetails (the reason phrase as title, the message as detail) elsewhere.
/// </summary>
internal sealed partial class GatewayExceptionHandler(ILogger<GatewayExceptionHandler> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        var status = exception is BadHttpRequestException badRequest ? badRequest.StatusCode : StatusCodes.Status500InternalServerError;
        var message = status < 500 ? exception.Message : "The gateway failed to handle the request.";
        if (status >= 500)
        {
            LogUnhandled(logger, exception, httpContext.Request.Method, httpContext.Request.Path);
        }

        // The same writer as every other error: the surface's shape, and a body even when the caller's Accept
        // (an EventSource's text/event-stream) rules out the problem+json writer.
        await httpContext.WriteErrorAsync(status, message);
        return true;
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Unhandled error on {Method} {Path}")]
    private static partial void LogUnhandled(ILogger logger, Exception exception, string method, PathString path);
}
