namespace Gateway.Chat;

/// <summary>
/// Clients that read past a stream's error event as if it were its end: the official OpenAI .NET SDK (and the Azure
/// OpenAI one built on it, which Semantic Kernel and Microsoft.Extensions.AI use) parses <c>{"error":…}</c> as an empty
/// update and ends its <c>await foreach</c> quietly, where the npm, Python and Go SDKs raise. For such a client a
/// failed stream is cut after its error event, its connection closed before the response's end, so that the
/// SDK's read fails (an <see cref="IOException"/>, "the response ended prematurely") instead of ending as if whole.
/// Every other client gets the stream closed as DESIGN §3 says, with the error event last.
/// </summary>
internal static class ErrorEventBlindClients
{
    /// <summary>
    /// How long the error event and the tokens before it get to leave before the cut: aborting a connection drops what
    /// Kestrel has not yet handed to its socket, and a flush returns before the send.
    /// </summary>
    private static readonly TimeSpan SendTime = TimeSpan.FromMilliseconds(100);

    /// <summary>
    /// Whether <paramref name="request"/> comes from such an SDK, by its <c>User-Agent</c>: <c>OpenAI/2.15.0 (.NET 10.0.12;
    /// …)</c>, or <c>azsdk-net-AI.OpenAI/…</c>, with other products' tokens around it (Microsoft.Extensions.AI adds
    /// <c>MEAI/…</c>). The npm and Python SDKs say <c>OpenAI/JS</c> and <c>OpenAI/Python</c>.
    /// </summary>
    public static bool Sent(HttpRequest request)
    {
        var userAgent = request.Headers.UserAgent.ToString();
        return userAgent.Contains("OpenAI/", StringComparison.Ordinal) && userAgent.Contains("(.NET", StringComparison.Ordinal);
    }

    /// <summary>Cuts the stream, its error event written, if its client is one of these; else leaves it to close as usual.</summary>
    public static async Task CutIfOneAsync(HttpContext httpContext, TimeProvider clock)
    {
        if (Sent(httpContext.Request))
        {
            await Task.Delay(SendTime, clock, CancellationToken.None);
            httpContext.Abort();
        }
    }
}
