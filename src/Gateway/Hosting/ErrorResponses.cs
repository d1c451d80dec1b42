using Gateway.Chat;

namespace Gateway.Hosting;

/// <summary>
/// Writes an error in the shape of the surface that was called: the OpenAI error object under /v1 (what the
/// SDKs parse), ProblemDetails everywhere else.
/// </summary>
internal static class ErrorResponses
{
    public static Task WriteErrorAsync(this HttpContext http, int status, string message, string? code = null, string? openAiType = null)
    {
        if (http.Request.Path.StartsWithSegments("/v1"))
        {
            var type = openAiType ?? (status < 500 ? "invalid_request_error" : "server_error");
            return ChatErrors.Result(status, new OpenAiError { Message = message, Type = type, Code = code }).ExecuteAsync(http);
        }

        var extensions = code is null ? null : new Dictionary<string, object?> { ["code"] = code };
        // TypedResults.Problem goes through IProblemDetailsService and falls back to plain JSON when the caller's
        // Accept (say text/event-stream) rules the writer out: an error always gets its body.
        return TypedResults.Problem(detail: message, statusCode: status, title: ReasonPhrase(status), extensions: extensions).ExecuteAsync(http);
    }

    public static string ReasonPhrase(int status) =>
        Microsoft.AspNetCore.WebUtilities.ReasonPhrases.GetReasonPhrase(status) is { Length: > 0 } phrase ? phrase : "Error";
}
