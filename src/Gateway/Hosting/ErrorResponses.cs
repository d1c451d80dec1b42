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
            ChatApi.SetRequestId(http);
            var type = openAiType ?? (status < 500 ? "invalid_request_error" : "server_error");
            return ChatErrors.Result(status, new OpenAiError { Message = message, Type = type, Code = code }).ExecuteAsync(http);
        }

        var extensions = code is null ? null : new Dictionary<string, object?> { ["code"] = code };
        // TypedResults.Problem goes through IProblemDetailsService and falls back to plain JSON when the caller's
        // Accept (say text/event-stream) rules the writer out: an error always gets its body.
        return TypedResults.Problem(detail: message, statusCode: status, title: ReasonPhrase(status), type: TypeOf(status), extensions: extensions).ExecuteAsync(http);
    }

    /// <summary>
    /// Sets <c>Retry-After</c> to <paramref name="delay"/> in whole seconds, rounded up and at least 1, and
    /// <c>retry-after-ms</c> to it in milliseconds (at least 1), which the OpenAI SDKs read first: a wait of 300 ms
    /// need not become a second. Returns the seconds.
    /// </summary>
    public static long SetRetryAfter(this HttpResponse response, TimeSpan delay)
    {
        var seconds = RetryAfterSeconds(delay);
        response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        response.Headers[RetryAfterMsHeader] = Math.Max(1, (long)Math.Ceiling(delay.TotalMilliseconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
        return seconds;
    }

    public const string RetryAfterMsHeader = "retry-after-ms";

    /// <summary>A wait as <c>Retry-After</c> says it: whole seconds, rounded up, at least 1.</summary>
    public static long RetryAfterSeconds(TimeSpan delay) => Math.Max(1, (long)Math.Ceiling(delay.TotalSeconds));

    /// <summary>
    /// A problem's <c>type</c> for the statuses ASP.NET Core's defaults leave without one, so that every problem body
    /// has one: 413 and 429. Null for the others, which the defaults fill in.
    /// </summary>
    public static string? TypeOf(int status) => status switch
    {
        StatusCodes.Status413PayloadTooLarge => "https://tools.ietf.org/html/rfc9110#section-15.5.14",
        StatusCodes.Status429TooManyRequests => "https://tools.ietf.org/html/rfc6585#section-4",
        _ => null,
    };

    public static string ReasonPhrase(int status) =>
        Microsoft.AspNetCore.WebUtilities.ReasonPhrases.GetReasonPhrase(status) is { Length: > 0 } phrase ? phrase : "Error";
}
