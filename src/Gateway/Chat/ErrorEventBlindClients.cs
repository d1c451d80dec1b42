namespace Gateway.Chat;

/// <summary>
/// Clients that read past a stream's error event as if it were its end: the official OpenAI .NET SDK (and what is built
/// on it: Semantic Kernel, Microsoft.Extensions.AI) parses <c>{"error":…}</c> as an empty update and ends its
/// <c>await foreach</c> quietly, where the npm, Python and Go SDKs raise. For such a client a failed stream is cut after
/// its error event: once the endpoint has returned, <see cref="UseErrorEventCuts"/> throws, and Kestrel, the response
/// begun, sends all that was written and then closes the connection without the body's last chunk (HTTP/1.1) or
/// resets the stream (HTTP/2). The SDK's read fails ("the response ended prematurely") instead of ending as if whole.
/// Every other client gets the stream closed as DESIGN §3 says, with the error event last.
/// </summary>
/// <remarks>
/// Not <see cref="HttpContext.Abort"/>: it drops what Kestrel has not yet handed to the socket, so a client behind in its
/// reading lost the last tokens and the error event (a review's probe: 576 of 2,000 tokens, with the abort 100 ms after
/// the event). Kestrel logs the exception once, as an application error; the exception handler never sees it.
/// </remarks>
internal static class ErrorEventBlindClients
{
    /// <summary>
    /// Whether <paramref name="request"/> comes from such an SDK, by its <c>User-Agent</c>: <c>OpenAI/2.15.0 (.NET 10.0.12;
    /// …)</c>, with other products' tokens around it (<c>Semantic-Kernel OpenAI/…</c>, <c>MyApp/1.0 OpenAI/…</c>,
    /// <c>OpenAI/… MEAI/10.5.0</c>). The npm and Python SDKs say <c>OpenAI/JS</c> and <c>OpenAI/Python</c>.
    /// </summary>
    public static bool Sent(HttpRequest request)
    {
        var userAgent = request.Headers.UserAgent.ToString();
        return userAgent.Contains("OpenAI/", StringComparison.Ordinal) && userAgent.Contains("(.NET", StringComparison.Ordinal);
    }

    /// <summary>Has the stream, its error event written, cut once its endpoint returns, if its client is one of these.</summary>
    public static void CutIfOne(HttpContext httpContext)
    {
        if (Sent(httpContext.Request))
        {
            httpContext.Features.Set(StreamCut.Due);
        }
    }

    /// <summary>The middleware that cuts the streams marked by <see cref="CutIfOne"/>: outermost, so that only Kestrel sees its exception.</summary>
    public static IApplicationBuilder UseErrorEventCuts(this IApplicationBuilder app) =>
        app.Use(static async (context, next) =>
        {
            await next(context);
            // A client already gone needs no cut (nor the log line of one).
            if (context.Features.Get<StreamCut>() is not null && !context.RequestAborted.IsCancellationRequested)
            {
                throw new StreamCutException();
            }
        });

    /// <summary>The mark of a stream to cut.</summary>
    private sealed class StreamCut
    {
        public static readonly StreamCut Due = new();
    }
}

/// <summary>What cuts a failed stream for a client that reads past its error event (<see cref="ErrorEventBlindClients"/>).</summary>
internal sealed class StreamCutException() : Exception(
    "A /v1 stream that failed after it began was cut after its error event, on purpose: its client (the OpenAI .NET SDK) " +
    "reads past an error event, and raises when the response ends short.");
