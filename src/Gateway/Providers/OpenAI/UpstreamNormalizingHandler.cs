namespace Gateway.Providers.OpenAI;

/// <summary>
/// Sits under the OpenAI SDK on each provider's <see cref="HttpClient"/> and puts successful bodies through
/// <see cref="ChunkInspector"/>, so that odd but harmless upstream output never reaches the SDK's strict parser
/// and errors hidden inside a 200 surface as <see cref="UpstreamException"/>.
/// </summary>
internal sealed class UpstreamNormalizingHandler : DelegatingHandler
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var response = await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
        {
            return response;
        }

        var mediaType = response.Content.Headers.ContentType?.MediaType;
        if (string.Equals(mediaType, "text/event-stream", StringComparison.OrdinalIgnoreCase))
        {
            var body = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
            response.Content = CopyHeaders(response.Content, new StreamContent(new NormalizingSseStream(body)));
        }
        else
        {
            var body = await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
            var rewritten = ChunkInspector.Inspect(body, out _);
            var original = response.Content;
            response.Content = CopyHeaders(original, new ByteArrayContent(rewritten ?? body));
            original.Dispose();
        }

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
