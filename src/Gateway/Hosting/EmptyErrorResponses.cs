using Microsoft.AspNetCore.Diagnostics;

namespace Gateway.Hosting;

/// <summary>
/// Gives a body to error statuses that routing produces without one (404 unknown path, 405, 415 wrong content
/// type): the OpenAI error object under /v1, ProblemDetails elsewhere.
/// </summary>
internal static class EmptyErrorResponses
{
    public static IApplicationBuilder UseErrorBodies(this IApplicationBuilder app) =>
        app.UseStatusCodePages(WriteAsync);

    private static Task WriteAsync(StatusCodeContext context)
    {
        var http = context.HttpContext;
        var status = http.Response.StatusCode;
        var message = status switch
        {
            StatusCodes.Status404NotFound => $"No endpoint at {http.Request.Method} {http.Request.Path}.",
            StatusCodes.Status405MethodNotAllowed => $"{http.Request.Method} is not allowed on {http.Request.Path}.",
            StatusCodes.Status415UnsupportedMediaType => "The request body must be JSON (Content-Type: application/json).",
            _ => ErrorResponses.ReasonPhrase(status),
        };
        return http.WriteErrorAsync(status, message);
    }
}
