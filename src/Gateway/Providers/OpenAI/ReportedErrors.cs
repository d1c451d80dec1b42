using System.Text.Json;

namespace Gateway.Providers.OpenAI;

/// <summary>
/// Errors an upstream reports inside a 200: a top-level <c>error</c> member, as a string or as an object with a
/// message and code, in a streamed chunk, an <c>event: error</c> or a whole completion.
/// </summary>
internal static class ReportedErrors
{
    private const string NoMessage = "(no message)";

    /// <summary>The failure an <c>error</c> member's value reports; null for JSON null.</summary>
    public static UpstreamException? FromMember(JsonElement error)
    {
        if (error.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        var message = error.ValueKind switch
        {
            JsonValueKind.String => error.GetString(),
            JsonValueKind.Object when error.TryGetProperty("message", out var m) && m.ValueKind == JsonValueKind.String => m.GetString(),
            _ => null,
        };
        string? code = null;
        if (error.ValueKind == JsonValueKind.Object && error.TryGetProperty("code", out var c))
        {
            code = c.ValueKind == JsonValueKind.String ? c.GetString() : c.ToString();
        }

        return Reported(message ?? NoMessage, code);
    }

    /// <summary>
    /// The failure a payload reports: its top-level <c>error</c> member, or the flat <c>{"object":"error"}</c> shape
    /// (<see cref="Flat"/>); null when it has neither, or is not a JSON object.
    /// </summary>
    public static UpstreamException? InPayload(ReadOnlySpan<byte> payload)
    {
        try
        {
            var reader = new Utf8JsonReader(payload);
            using var document = JsonDocument.ParseValue(ref reader);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return null;
            }

            if (root.TryGetProperty("error", out var error))
            {
                return FromMember(error);
            }

            return root.TryGetProperty("object", out var kind) && kind.ValueKind == JsonValueKind.String && kind.ValueEquals("error")
                ? Flat(root.TryGetProperty("message", out var message) && message.ValueKind == JsonValueKind.String ? message.GetString() : null)
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>
    /// The failure an <c>event: error</c> reports: its payload's <c>error</c> member, or, for a payload that is not
    /// such JSON, its text (upstream messages are scrubbed of keys and cut to length on the way out, as every upstream
    /// message is).
    /// </summary>
    public static UpstreamException InErrorEvent(ReadOnlySpan<byte> data)
    {
        if (InPayload(data) is { } failure)
        {
            return failure;
        }

        // Whole: the provider's key is scrubbed from it, and only then is it cut to length (OpenAiErrorTranslator).
        var text = System.Text.Encoding.UTF8.GetString(data).Trim();
        return Reported(text.Length > 0 ? text : NoMessage);
    }

    /// <summary>The flat error object older vLLM, TensorRT-LLM and FastChat send as a chunk: <c>{"object":"error","message":…}</c>.</summary>
    public static UpstreamException Flat(string? message) => Reported(string.IsNullOrEmpty(message) ? NoMessage : message);

    private static UpstreamException Reported(string message, string? code = null) =>
        new(UpstreamFailure.StreamError, $"The upstream reported an error: {message}") { UpstreamCode = code };
}
