using System.Text;

namespace Gateway.Providers.OpenAI;

/// <summary>
/// Looks at a whole, non-streamed upstream completion before the SDK parses it, because the SDK throws on things
/// real OpenAI-compatible servers send: finish reasons outside its enum (<c>"eos"</c>, <c>"end_turn"</c>, <c>""</c>)
/// and errors reported inside a 200 response. (Streamed chunks are checked by <see cref="StreamingChunkReader"/> as
/// it reads them.) The cheap byte searches keep the common body on a fast path that allocates nothing.
/// </summary>
internal static class ChunkInspector
{
    private static ReadOnlySpan<byte> FinishReasonKey => "\"finish_reason\""u8;
    private static ReadOnlySpan<byte> ErrorKey => "\"error\""u8;

    /// <summary>
    /// Returns a rewritten payload when a finish reason must be mapped onto the SDK's enum, or null when the
    /// payload can go to the SDK as it is. Throws <see cref="UpstreamException"/> when the payload reports an error.
    /// </summary>
    public static byte[]? Inspect(ReadOnlySpan<byte> payload)
    {
        // Not JSON, or no error member: the SDK reports what is wrong with it, if anything.
        if (payload.IndexOf(ErrorKey) >= 0 && ReportedErrors.InPayload(payload) is { } failure)
        {
            throw failure;
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
            if (payload[valueStart..].StartsWith("null"u8))
            {
                // A whole completion is finished, whatever it says: the SDK would throw on a null, and the call be
                // retried, the answer generated (and paid for) again.
                (rewritten ??= []).Add((valueStart, 4, "\"stop\""));
                continue;
            }

            if (valueStart >= payload.Length || payload[valueStart] != (byte)'"')
            {
                continue; // malformed, which the SDK reports itself
            }

            var valueEnd = payload[(valueStart + 1)..].IndexOf((byte)'"');
            if (valueEnd < 0)
            {
                break;
            }

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
    private static string? MapFinishReason(ReadOnlySpan<byte> value) =>
        FinishReasons.IsKnownToTheSdk(value) ? null
        : FinishReasons.Map(value) == Microsoft.Extensions.AI.ChatFinishReason.Length ? "length"
        : "stop";

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
}
