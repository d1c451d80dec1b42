using Microsoft.Extensions.Primitives;
using Microsoft.Net.Http.Headers;

namespace Gateway.Hosting;

/// <summary>
/// What a JSON body's headers say about its bytes that the gateway does not read: a <c>Content-Encoding</c> (gzip,
/// br, ...), a <c>Transfer-Encoding</c> other than chunked, or a charset other than UTF-8. Each was read as plain
/// UTF-8, into a 400 about the wrong thing or, for a coding whose bytes happened to parse, another body than the one
/// sent: they are 415s that say so.
/// </summary>
internal static class RequestBodyEncoding
{
    /// <returns>Why the body cannot be read, or null when it is plain UTF-8.</returns>
    public static string? Unsupported(HttpRequest request)
    {
        var codings = request.Headers.ContentEncoding;
        if (codings.Count > 0 && !IsIdentity(codings))
        {
            return "A compressed body (Content-Encoding) is not supported: send it uncompressed.";
        }

        // Kestrel takes "gzip, chunked" and hands over the chunks' bytes as they are, still compressed.
        if (request.Headers.TransferEncoding is { Count: > 0 } transfer && !IsOnlyChunked(transfer))
        {
            return "A Transfer-Encoding other than chunked (gzip, deflate, ...) is not supported: send the body uncompressed, chunked or with a Content-Length.";
        }

        // Only a declared charset needs parsing; nearly every request declares none. US-ASCII is UTF-8's first half.
        if (request.ContentType is { } contentType
            && contentType.Contains("charset", StringComparison.OrdinalIgnoreCase)
            && MediaTypeHeaderValue.TryParse(contentType, out var mediaType)
            && HeaderUtilities.RemoveQuotes(mediaType.Charset) is { HasValue: true } charset
            && !charset.Equals("utf-8", StringComparison.OrdinalIgnoreCase)
            && !charset.Equals("utf8", StringComparison.OrdinalIgnoreCase)
            && !charset.Equals("us-ascii", StringComparison.OrdinalIgnoreCase))
        {
            return "JSON bodies are read as UTF-8: send the body in UTF-8 (charset=utf-8, or no charset).";
        }

        return null;
    }

    private static bool IsOnlyChunked(StringValues codings)
    {
        foreach (var value in codings)
        {
            // Split in place: a chunked upload names its coding on every request, and costs no array for it.
            var list = value.AsSpan();
            foreach (var range in list.Split(','))
            {
                var coding = list[range].Trim();
                if (!coding.IsEmpty && !coding.Equals("chunked", StringComparison.OrdinalIgnoreCase))
                {
                    return false;
                }
            }
        }

        return true;
    }

    private static bool IsIdentity(StringValues codings)
    {
        foreach (var coding in codings)
        {
            if (!string.IsNullOrWhiteSpace(coding) && !coding.Trim().Equals("identity", StringComparison.OrdinalIgnoreCase))
            {
                return false;
            }
        }

        return true;
    }
}
