using Gateway.Chat;
using Microsoft.AspNetCore.Diagnostics;

namespace Gateway.Hosting;

/// <summary>
/// The last line of defence: a caller's bad request that the framework rejected (too large, unreadable) keeps
/// its 4xx, anything else is a logged 500, and /v1 callers get the OpenAI error body their SDKs understand.
/// </summary>
internal sealed partial class GatewayExceptionHandler(IProblemDetailsService problemDetails, ILogger<GatewayExceptionHandler> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        var status = exception is BadHttpRequestException badRequest ? badRequest.StatusCode : StatusCodes.Status500InternalServerError;
        var message = status < 500 ? exception.Message : "The gateway failed to handle the request.";
        if (status >= 500)
        {
            LogUnhandled(logger, exception, httpContext.Request.Method, httpContext.Request.Path);
        }

        httpContext.Response.StatusCode = status;
        if (httpContext.Request.Path.StartsWithSegments("/v1"))
        {
            var error = new OpenAiError { Message = message, Type = status < 500 ? "invalid_request_error" : "server_error" };
            await ChatErrors.Result(status, error).ExecuteAsync(httpContext);
            return true;
        }

        return await problemDetails.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = httpContext,
            Exception = exception,
            ProblemDetails = { Status = status, Title = message },
        });
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Unhandled error on {Method} {Path}")]
    private static partial void LogUnhandled(ILogger logger, Exception exception, string method, PathString path);
}
