using System.Text.Json;

namespace Gateway.Providers.OpenAI;

/// <summary>
/// Errors an upstream reports inside a 200: a top-level <c>error</c> member, as a string or as an object with a
/// message and code, in a streamed chunk, an <c>event: error</c> or a whole completion.
/// </summary>
internal static class ReportedErrors
{
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

        return new UpstreamException(UpstreamFailure.StreamError, $"The upstream reported an error: {message ?? "(no message)"}")
        {
            UpstreamCode = code,
        };
    }

    /// <summary>The failure a payload's top-level <c>error</c> member reports; null when it has none, or is not a JSON object.</summary>
    public static UpstreamException? InPayload(ReadOnlySpan<byte> payload)
    {
        try
        {
            var reader = new Utf8JsonReader(payload);
            using var document = JsonDocument.ParseValue(ref reader);
            return document.RootElement.ValueKind == JsonValueKind.Object && document.RootElement.TryGetProperty("error", out var error)
                ? FromMember(error)
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
