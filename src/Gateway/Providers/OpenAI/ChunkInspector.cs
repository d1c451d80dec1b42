using System.Text;
using System.Text.Json;

namespace Gateway.Providers.OpenAI;

/// <summary>
/// Looks at one upstream JSON payload (an SSE <c>data:</c> line or a whole completion) before the SDK parses it,
/// because the SDK throws on things real OpenAI-compatible servers send: finish reasons outside its enum
/// (<c>"eos"</c>, <c>"end_turn"</c>, <c>""</c>) and errors reported inside a 200 response.
/// The cheap byte searches keep the common chunk on a fast path that allocates nothing.
/// </summary>
internal static class ChunkInspector
{
    private static ReadOnlySpan<byte> FinishReasonKey => "\"finish_reason\""u8;
    private static ReadOnlySpan<byte> ErrorKey => "\"error\""u8;

    /// <summary>
    /// Returns a rewritten payload when a finish reason must be mapped onto the SDK's enum, or null when the
    /// payload can go to the SDK as it is. Throws <see cref="UpstreamException"/> when the payload reports an error.
    /// <paramref name="finished"/> tells whether the payload carries a finish reason.
    /// </summary>
    public static byte[]? Inspect(ReadOnlySpan<byte> payload, out bool finished)
    {
        finished = false;
        if (payload.IndexOf(ErrorKey) >= 0)
        {
            ThrowIfTopLevelError(payload);
        }

        var rewritten = default(List<(int Start, int Length, string Replacement)>);
        var offset = 0;
        while (true)
        {
            var found = payload[offset..].IndexOf(FinishReasonKey);
            if (found < 0)
            {
                break;
            }

            var valueStart = SkipToValue(payload, offset + found + FinishReasonKey.Length);
            offset = valueStart;
            if (valueStart >= payload.Length || payload[valueStart] != (byte)'"')
            {
                continue; // null (the usual case mid-stream) or malformed, which the SDK reports itself
            }

            var valueEnd = payload[(valueStart + 1)..].IndexOf((byte)'"');
            if (valueEnd < 0)
            {
                break;
            }

            finished = true;
            var value = payload.Slice(valueStart + 1, valueEnd);
            var replacement = MapFinishReason(value);
            if (replacement is not null)
            {
                (rewritten ??= []).Add((valueStart + 1, valueEnd, replacement));
            }

            offset = valueStart + valueEnd + 2;
        }

        return rewritten is null ? null : Rewrite(payload, rewritten);
    }

    /// <summary>Null when the SDK knows the value; otherwise the value it should see instead.</summary>
    private static string? MapFinishReason(ReadOnlySpan<byte> value)
    {
        if (value.SequenceEqual("stop"u8) || value.SequenceEqual("length"u8) || value.SequenceEqual("tool_calls"u8)
            || value.SequenceEqual("content_filter"u8) || value.SequenceEqual("function_call"u8))
        {
            return null;
        }

        if (value.SequenceEqual("error"u8))
        {
            // OpenRouter and others end a failed stream with finish_reason "error": a failure, not a finish.
            throw new UpstreamException(UpstreamFailure.StreamError, "The upstream ended the stream with finish_reason \"error\".");
        }

        // Servers that ran out of budget say so in their own words; everything else ended the turn normally.
        return value.SequenceEqual("max_tokens"u8) || value.SequenceEqual("max_length"u8) || value.SequenceEqual("model_length"u8)
            ? "length"
            : "stop";
    }

    private static int SkipToValue(ReadOnlySpan<byte> payload, int index)
    {
        while (index < payload.Length && payload[index] is (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n' or (byte)':')
        {
            index++;
        }

        return index;
    }

    private static byte[] Rewrite(ReadOnlySpan<byte> payload, List<(int Start, int Length, string Replacement)> edits)
    {
        var output = new List<byte>(payload.Length + 16);
        var position = 0;
        foreach (var (start, length, replacement) in edits)
        {
            output.AddRange(payload[position..start]);
            output.AddRange(Encoding.UTF8.GetBytes(replacement));
            position = start + length;
        }

        output.AddRange(payload[position..]);
        return [.. output];
    }

    private static void ThrowIfTopLevelError(ReadOnlySpan<byte> payload)
    {
        string? message = null;
        string? code = null;
        try
        {
            var reader = new Utf8JsonReader(payload);
            using var document = JsonDocument.ParseValue(ref reader);
            if (document.RootElement.ValueKind != JsonValueKind.Object
                || !document.RootElement.TryGetProperty("error", out var error)
                || error.ValueKind == JsonValueKind.Null)
            {
                return;
            }

            message = error.ValueKind switch
            {
                JsonValueKind.String => error.GetString(),
                JsonValueKind.Object when error.TryGetProperty("message", out var m) && m.ValueKind == JsonValueKind.String => m.GetString(),
                _ => null,
            };
            if (error.ValueKind == JsonValueKind.Object && error.TryGetProperty("code", out var c))
            {
                code = c.ValueKind == JsonValueKind.String ? c.GetString() : c.ToString();
            }
        }
        catch (JsonException)
        {
            return; // not JSON: the SDK reports it as malformed
        }

        throw new UpstreamException(UpstreamFailure.StreamError, $"The upstream reported an error: {message ?? "(no message)"}")
        {
            UpstreamCode = code,
        };
    }
}
