using System.ClientModel;
using System.Net;
using System.Text.Json;

namespace Gateway.Providers.OpenAI;

/// <summary>
/// Maps whatever the SDK or the transport threw onto <see cref="UpstreamException"/>, with a message that is
/// safe to show a caller: the provider's key is scrubbed, and a refused key is described, never quoted.
/// </summary>
internal sealed class OpenAiErrorTranslator(string providerName, string? apiKey)
{
    public UpstreamException? Translate(Exception exception, CancellationToken cancellationToken)
    {
        switch (exception)
        {
            case UpstreamException upstream:
                return Safe(upstream);
            case OperationCanceledException when cancellationToken.IsCancellationRequested:
                return null; // the caller went away; not an upstream failure
            case OperationCanceledException or TimeoutException:
                return new UpstreamException(UpstreamFailure.Timeout, $"Provider '{providerName}' did not answer in time.", inner: exception);
            case ClientResultException { Status: 0 } clientResult:
                return Translate(clientResult.InnerException ?? new HttpRequestException(), cancellationToken)
                    ?? new UpstreamException(UpstreamFailure.Connection, $"Provider '{providerName}' could not be reached.");
            case ClientResultException clientResult:
                var response = clientResult.GetRawResponse();
                return FromStatus(
                    clientResult.Status,
                    response?.Content?.ToMemory() ?? default,
                    response is null ? null : RetryAfterHeader.Parse(
                        response.Headers.TryGetValue(RetryAfterHeader.MillisecondsName, out var retryAfterMs) ? retryAfterMs : null,
                        response.Headers.TryGetValue("Retry-After", out var retryAfter) ? retryAfter : null,
                        DateTimeOffset.UtcNow));
            case HttpRequestException or HttpIOException:
                // The runtime's message names the host and port ("Name or service not known (llm.internal:8000)"), or,
                // for a stream cut mid-body, ends with its enum's name ("... prematurely. (ResponseEnded)"): the caller
                // is told what went wrong, in words, not where the gateway's providers live.
                var error = exception is HttpRequestException request ? request.HttpRequestError : ((HttpIOException)exception).HttpRequestError;
                return new UpstreamException(
                    UpstreamFailure.Connection,
                    $"The connection to provider '{providerName}' failed: {Describe(error)}.",
                    inner: exception)
                {
                    // The runtime quotes an upstream's bytes ("invalid header name: '...'"): escaped as its words are.
                    TransportDetail = Safe(exception.Message),
                };
            case IOException:
                return new UpstreamException(
                    UpstreamFailure.Connection,
                    $"The connection to provider '{providerName}' failed: {Safe(exception.Message)}",
                    inner: exception);
            case JsonException:
                // The reader's message quotes the upstream's bytes (a 200 KB bad literal whole): scrubbed and cut.
                return new UpstreamException(
                    UpstreamFailure.Protocol,
                    $"Provider '{providerName}' sent a response that is not a valid chat completion: {Safe(exception.Message)}",
                    inner: exception);
            case FormatException or InvalidOperationException or ArgumentException or KeyNotFoundException:
                // The SDK's model getters failing on a malformed answer ("Index was out of range", "Unknown
                // ChatFinishReason value"): the runtime's words are for the log, not for the caller.
                return new UpstreamException(
                    UpstreamFailure.Protocol,
                    $"Provider '{providerName}' sent a response that is not a valid chat completion.",
                    inner: exception)
                {
                    TransportDetail = Safe(exception.Message),
                };
            default:
                return null;
        }
    }

    private static string Describe(HttpRequestError error) => error switch
    {
        HttpRequestError.NameResolutionError => "its host name did not resolve",
        HttpRequestError.ConnectionError => "it could not be connected to",
        HttpRequestError.SecureConnectionError => "the TLS handshake failed",
        HttpRequestError.ResponseEnded => "it closed the connection before its answer was complete",
        HttpRequestError.InvalidResponse => "its response was not valid HTTP",
        HttpRequestError.ProxyTunnelError => "the proxy to it refused the tunnel",
        HttpRequestError.HttpProtocolError => "an HTTP protocol error",
        HttpRequestError.ConfigurationLimitExceeded => "its response exceeded a configured limit",
        HttpRequestError.UserAuthenticationError => "it asked for authentication the gateway cannot give",
        HttpRequestError.VersionNegotiationError => "no HTTP version was agreed",
        _ => "an error in the transport",
    };

    /// <summary>An upstream's error status, with its body and the wait it asks for (<see cref="RetryAfterHeader"/>), if any.</summary>
    public UpstreamException FromStatus(int statusCode, ReadOnlyMemory<byte> body, TimeSpan? retryAfter)
    {
        var status = (HttpStatusCode)statusCode;
        if (status is HttpStatusCode.ProxyAuthenticationRequired)
        {
            // A forward proxy on the gateway's way out, not the provider, wants credentials: the gateway's to fix. Passed
            // on as it came, the caller's HTTP client read it as its own proxy asking.
            return new UpstreamException(
                UpstreamFailure.Status,
                $"A proxy between the gateway and provider '{providerName}' asks for credentials (HTTP 407).",
                status);
        }

        if (status is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden)
        {
            // The upstream's own text may quote part of our key; describe the failure instead. A provider configured with
            // no key at all (the shipped 'openai' before its key is set) is said to have none: the fix is one setting.
            return new UpstreamException(
                UpstreamFailure.Status,
                string.IsNullOrEmpty(apiKey)
                    ? $"Provider '{providerName}' refused the gateway's credentials (HTTP {(int)status}): it has no API key configured (Gateway:Providers:{providerName}:ApiKey)."
                    : $"Provider '{providerName}' refused the gateway's credentials (HTTP {(int)status}).",
                status);
        }

        var (message, code, param, quota) = ReadError(body);
        return new UpstreamException(
            UpstreamFailure.Status,
            // An empty message says nothing: the caller is told the status instead of "", and, for a refusal of the
            // request (4xx), a server's own words when it answered in plain text. Not a 5xx's: that is what a proxy on the
            // way says ("dial tcp 10.0.0.5:8000: connection refused"), where the providers live.
            !string.IsNullOrWhiteSpace(message) ? Safe(message)
            : statusCode is >= 400 and < 500 && PlainText(body) is { } text ? $"Provider '{providerName}' answered HTTP {(int)status}: {Safe(text)}"
            : $"Provider '{providerName}' answered HTTP {(int)status}.",
            status)
        {
            UpstreamCode = SafeOrNull(code),
            UpstreamParam = SafeOrNull(param),
            RetryAfter = retryAfter,
            QuotaExhausted = status == HttpStatusCode.TooManyRequests && quota,
        };
    }

    /// <summary>An error body's message, code and param, and whether it names an exhausted quota (<see cref="QuotaExhaustion"/>).</summary>
    private static (string? Message, string? Code, string? Param, bool Quota) ReadError(ReadOnlyMemory<byte> body)
    {
        if (body.IsEmpty)
        {
            return (null, null, null, false);
        }

        try
        {
            using var document = JsonDocument.Parse(ByteOrderMark.Skip(body));
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return (null, null, null, false);
            }

            var hasError = root.TryGetProperty("error", out var error);
            var quota = QuotaExhaustion.IsNamedIn(hasError ? error : root);
            if (hasError)
            {
                if (error.ValueKind == JsonValueKind.String)
                {
                    return (error.GetString(), null, null, quota);
                }

                if (error.ValueKind == JsonValueKind.Object)
                {
                    return (StringOf(error, "message"), StringOf(error, "code"), StringOf(error, "param"), quota);
                }
            }

            // The flat shape of older vLLM, TensorRT-LLM and FastChat ({"object":"error","message":…}), and a FastAPI
            // server's own refusal ({"detail":"…"}, or its validation errors, [{"msg":"…"}]).
            if (StringOf(root, "message") is { } flat)
            {
                return (flat, StringOf(root, "code"), StringOf(root, "param"), quota);
            }

            if (root.TryGetProperty("detail", out var detail))
            {
                return (detail.ValueKind == JsonValueKind.String ? detail.GetString()
                    : detail.ValueKind == JsonValueKind.Array && detail.GetArrayLength() > 0 && detail[0].ValueKind == JsonValueKind.Object ? StringOf(detail[0], "msg")
                    : null, null, null, quota);
            }

            return (null, null, null, quota);
        }
        catch (JsonException)
        {
        }

        return (null, null, null, false);
    }

    /// <summary>
    /// The most of a plain-text error's first line read. The caller is shown far less (<see cref="Safe(string)"/>, which
    /// scrubs the key before it cuts): a key across this first cut lies past what is shown, so no part of it is.
    /// </summary>
    private const int PlainTextBytes = 64 * 1024;

    /// <summary>
    /// The first line of an error body in plain text (a server's own words: "model 'x' not found, try pulling it first"),
    /// or null for JSON, for HTML (a proxy's error page, a tag soup to a caller) and for bytes that are not UTF-8 text.
    /// A caller was told only the status.
    /// </summary>
    private static string? PlainText(ReadOnlyMemory<byte> body)
    {
        var text = ByteOrderMark.Skip(body.Span).Trim(" \t\r\n"u8);
        if (text.IsEmpty || text[0] is (byte)'<' or (byte)'{' or (byte)'[')
        {
            return null;
        }

        var line = text.IndexOfAny((byte)'\r', (byte)'\n') is var end and >= 0 ? text[..end] : text;
        if (line.Length > PlainTextBytes)
        {
            // Cut at a character's first byte, so that the cut is still UTF-8.
            var cut = PlainTextBytes;
            while (cut > 0 && (line[cut] & 0xC0) == 0x80)
            {
                cut--;
            }

            line = line[..cut];
        }

        return System.Text.Unicode.Utf8.IsValid(line) ? System.Text.Encoding.UTF8.GetString(line) : null;
    }

    private static string? StringOf(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    /// <summary>
    /// Errors raised below the SDK (an error event inside a 200 stream) quote the upstream's own words, which may
    /// hold our key or be megabytes long. The copy has no inner exception, so no log line can reach the original
    /// message either.
    /// </summary>
    private UpstreamException Safe(UpstreamException exception)
    {
        var (message, code, param) = (Safe(exception.Message), SafeOrNull(exception.UpstreamCode), SafeOrNull(exception.UpstreamParam));
        return ReferenceEquals(message, exception.Message) && ReferenceEquals(code, exception.UpstreamCode) && ReferenceEquals(param, exception.UpstreamParam)
            ? exception
            : new UpstreamException(exception.Failure, message, exception.Status)
            {
                RetryAfter = exception.RetryAfter,
                QuotaExhausted = exception.QuotaExhausted,
                Reason = exception.Reason,
                UpstreamCode = code,
                UpstreamParam = param,
                TransportDetail = exception.TransportDetail,
            };
    }

    /// <summary>
    /// Every upstream word a caller may see goes through this: the message, and the code and param an upstream names
    /// (any text an OpenAI-compatible server chooses, which may quote the Authorization header it got). The key goes
    /// first, then the length: cut first, a key straddling the cut would keep its first characters, and a caller who
    /// sets the prompt's length could read it a prefix at a time. Unchanged text is returned as it is.
    /// </summary>
    private string Safe(string text) => UpstreamText.Passable(Scrub(text));

    private string? SafeOrNull(string? text) => text is null ? null : Safe(text);

    /// <summary>
    /// A key shorter than this may be a placeholder that a local server ignores ("x", "none"): scrubbed wherever it
    /// stood, it cut itself out of every word that holds it ("does not e***ist", with the key "x"). Such a key is
    /// scrubbed where it stands as a word of its own ("Bearer x", "Bearer hunter2"), a longer one wherever it stands.
    /// </summary>
    private const int ShortestSecret = 8;

    // Case ignored for a key long enough to be a secret: an upstream that echoed it upper-cased ("BEARER SK-...") gave it
    // away. Not for a short placeholder ("EMPTY", vLLM's; "none"): "must not be empty" kept its words.
    private string Scrub(string text)
    {
        if (string.IsNullOrEmpty(apiKey))
        {
            return text;
        }

        if (apiKey.Length >= ShortestSecret)
        {
            return text.Replace(apiKey, "***", StringComparison.OrdinalIgnoreCase); // the same instance when it is not there
        }

        if (!text.Contains(apiKey, StringComparison.Ordinal))
        {
            return text;
        }

        var scrubbed = new System.Text.StringBuilder(text.Length);
        var from = 0;
        for (var at = text.IndexOf(apiKey, StringComparison.Ordinal); at >= 0; at = text.IndexOf(apiKey, at + 1, StringComparison.Ordinal))
        {
            var end = at + apiKey.Length;
            if (at < from || (at > 0 && IsInWord(text[at - 1])) || (end < text.Length && IsInWord(text[end])))
            {
                continue;
            }

            scrubbed.Append(text, from, at - from).Append("***");
            from = end;
        }

        return scrubbed.Append(text, from, text.Length - from).ToString();

        // A hyphen or an underscore joins words ("x-large", "sk_x"); a dot or a quote ends one ("Bearer hunter2.").
        // The cut's ellipsis too: a text cut just after a short key's first letters, translated again, left them alone.
        static bool IsInWord(char c) => char.IsLetterOrDigit(c) || c is '-' or '_' or '…';
    }
}
