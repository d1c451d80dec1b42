namespace Gateway.Providers.OpenAI;

/// <summary>
/// Sits under the OpenAI SDK on each provider's <see cref="HttpClient"/> and puts successful non-streamed bodies
/// through <see cref="ChunkInspector"/> and <see cref="WholeNumbers"/>, so that odd but harmless upstream output never reaches the SDK's strict
/// parser and errors hidden inside a 200 surface as <see cref="UpstreamException"/>. Streamed bodies pass untouched:
/// <see cref="StreamingChunkReader"/> makes the same checks as it parses them, in one pass. A stream is known by its
/// request, not by the response's content type: servers stream SSE as <c>text/plain</c> or with no type at all, and
/// reading such a body whole here held every token back until the last (and, past the first-token timeout, failed
/// a healthy stream as "no response headers").
/// </summary>
internal sealed class UpstreamNormalizingHandler : DelegatingHandler
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var response = await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode
            || request is StreamedCompletionRequest
            || string.Equals(response.Content.Headers.ContentType?.MediaType, "text/event-stream", StringComparison.OrdinalIgnoreCase))
        {
            return response;
        }

        var body = await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
        if (ByteOrderMark.Skip(body.AsMemory()) is var unmarked && unmarked.Length != body.Length)
        {
            body = unmarked.ToArray(); // the SDK's parser refuses a byte order mark
        }

        var inspected = ChunkInspector.Inspect(body) ?? body;
        var normalized = WholeNumbers.In(inspected) ?? inspected;
        var original = response.Content;
        response.Content = CopyHeaders(original, new ByteArrayContent(normalized));
        original.Dispose();
        return response;
    }

    private static HttpContent CopyHeaders(HttpContent from, HttpContent to)
    {
        foreach (var (name, values) in from.Headers.NonValidated)
        {
            if (!string.Equals(name, "Content-Length", StringComparison.OrdinalIgnoreCase))
            {
                to.Headers.TryAddWithoutValidation(name, (IEnumerable<string>)values);
            }
        }

        return to;
    }
}
