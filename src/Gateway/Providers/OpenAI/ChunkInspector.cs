using System.Text;
using System.Text.Json;

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
    private static ReadOnlySpan<byte> ArgumentsKey => "\"arguments\""u8;
    private static ReadOnlySpan<byte> ContentKey => "\"content\""u8;

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

        var rewritten = LoneHalves(payload);
        if (payload.IndexOf(ArgumentsKey) >= 0)
        {
            ArgumentsNotAString(payload, ref rewritten);
        }

        if (HasContentList(payload) && ContentParts.InWholeAnswer(payload) is { } parts)
        {
            // Each list's edit covers any half inside it, which it has read as a streamed answer's (SplitSurrogates).
            (rewritten ??= []).AddRange(parts);
        }

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
            if (value.IndexOf((byte)'\\') >= 0 && Unescaped(payload[valueStart..]) is { } unescaped)
            {
                // "len\u0067th" is "length": compared as bytes, it was no reason the SDK knew, and became a stop.
                value = unescaped.Text;
                valueEnd = unescaped.QuotedLength - 2;
            }

            var replacement = MapFinishReason(value);
            if (replacement is not null)
            {
                (rewritten ??= []).Add((valueStart + 1, valueEnd, replacement));
            }

            offset = valueStart + valueEnd + 2;
        }

        return rewritten is null ? null : Rewrite(payload, [.. rewritten.OrderBy(edit => edit.Start)]);
    }

    /// <summary>
    /// The text of the JSON string that starts at <paramref name="fromQuote"/>, and its length in the payload with its
    /// quotes; null when it is not one the reader gives out (a lone half of a character: mapped as the bytes it is).
    /// </summary>
    private static (byte[] Text, int QuotedLength)? Unescaped(ReadOnlySpan<byte> fromQuote)
    {
        var reader = new Utf8JsonReader(fromQuote, isFinalBlock: false, state: default);
        try
        {
            return reader.Read() && reader.TokenType == JsonTokenType.String
                ? (Encoding.UTF8.GetBytes(reader.GetString()!), (int)reader.BytesConsumed)
                : null;
        }
        catch (Exception exception) when (exception is JsonException or InvalidOperationException)
        {
            return null;
        }
    }

    /// <summary>
    /// A tool call's <c>arguments</c> written as the object itself (older Ollama), or as a number, a boolean or null,
    /// where OpenAI writes its text in a string: the SDK's parser refuses it, and the call was retried, generated and
    /// paid for again. Each becomes the string of its text (null, an empty one), as a streamed one is read
    /// (<see cref="StreamingChunkReader"/>).
    /// </summary>
    private static void ArgumentsNotAString(ReadOnlySpan<byte> payload, ref List<(int Start, int Length, string Replacement)>? edits)
    {
        var offset = 0;
        while (payload[offset..].IndexOf(ArgumentsKey) is var found and >= 0)
        {
            var keyEnd = offset + found + ArgumentsKey.Length;
            var valueStart = SkipToValue(payload, keyEnd);
            offset = valueStart;

            // A member's name has a colon after it; a string that reads "arguments" (a function's name) has not.
            if (valueStart >= payload.Length || payload[valueStart] == (byte)'"' || payload[keyEnd..valueStart].IndexOf((byte)':') < 0)
            {
                continue;
            }

            var reader = new Utf8JsonReader(payload[valueStart..]);
            try
            {
                reader.Read();
                reader.Skip();
            }
            catch (JsonException)
            {
                continue; // malformed here, which the SDK reports itself; later ones are still looked at
            }

            var length = (int)reader.BytesConsumed;
            var text = reader.TokenType == JsonTokenType.Null ? "" : Encoding.UTF8.GetString(payload.Slice(valueStart, length));
            (edits ??= []).Add((valueStart, length, JsonSerializer.Serialize(text)));
            offset = valueStart + length;
        }
    }

    /// <summary>
    /// Whether a <c>content</c> member's value is a list (<see cref="ContentParts"/>): only then is the document read
    /// whole, as a string's quote follows the colon in every other answer.
    /// </summary>
    private static bool HasContentList(ReadOnlySpan<byte> payload)
    {
        var offset = 0;
        while (payload[offset..].IndexOf(ContentKey) is var found and >= 0)
        {
            var keyEnd = offset + found + ContentKey.Length;
            var valueStart = SkipToValue(payload, keyEnd);
            if (valueStart < payload.Length && payload[valueStart] == (byte)'[' && payload[keyEnd..valueStart].IndexOf((byte)':') >= 0)
            {
                return true;
            }

            offset = keyEnd;
        }

        return false;
    }

    /// <summary>
    /// A character's UTF-16 half escaped without its partner (<c>"\ud83d"</c> at the end of an answer a JavaScript server
    /// cut by length): the SDK's parser refuses it, and the call was retried, generated and paid for again. Each becomes
    /// <c>\ufffd</c>, as a streamed answer's does (<see cref="SplitSurrogates"/>). Null when there is none.
    /// </summary>
    private static List<(int Start, int Length, string Replacement)>? LoneHalves(ReadOnlySpan<byte> payload)
    {
        var edits = default(List<(int, int, string)>);
        var offset = 0;
        while (IndexOfSurrogateEscape(payload, offset) is var at and >= 0)
        {
            var high = IsHigh(payload[(at + 3)..]);
            var paired = high && IndexOfSurrogateEscape(payload, at + 6) == at + 6 && !IsHigh(payload[(at + 9)..]);
            if (paired)
            {
                offset = at + 12;
                continue;
            }

            (edits ??= []).Add((at, 6, "\\ufffd"));
            offset = at + 6;
        }

        return edits;
    }

    /// <summary>
    /// Where the escape <c>\uD800</c>-<c>\uDFFF</c> (either case) starts at or after <paramref name="from"/>, or -1. Not
    /// a backslash that is itself escaped: <c>\\uD83D</c> is the text "\uD83D" (a regex, code), and stays.
    /// </summary>
    private static int IndexOfSurrogateEscape(ReadOnlySpan<byte> payload, int from)
    {
        var offset = from;
        while (payload[offset..].IndexOf("\\u"u8) is var found and >= 0)
        {
            var at = offset + found;
            if (at + 6 <= payload.Length && !IsEscaped(payload, at)
                && payload[at + 2] is (byte)'d' or (byte)'D' && payload[at + 3] is >= (byte)'8' and <= (byte)'9' or >= (byte)'a' and <= (byte)'f' or >= (byte)'A' and <= (byte)'F')
            {
                return at;
            }

            offset = at + 2;
        }

        return -1;
    }

    /// <summary>Whether the backslash at <paramref name="at"/> is escaped: an odd number of backslashes right before it.</summary>
    private static bool IsEscaped(ReadOnlySpan<byte> payload, int at)
    {
        var backslashes = 0;
        while (at - backslashes - 1 >= 0 && payload[at - backslashes - 1] == (byte)'\\')
        {
            backslashes++;
        }

        return backslashes % 2 == 1;
    }

    /// <summary>Whether the escape's third hex digit (<c>\uD8..</c>-<c>\uDB..</c>) makes it a first half.</summary>
    private static bool IsHigh(ReadOnlySpan<byte> fromThirdDigit) =>
        fromThirdDigit.Length > 0 && fromThirdDigit[0] is (byte)'8' or (byte)'9' or (byte)'a' or (byte)'b' or (byte)'A' or (byte)'B';

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
            if (start < position)
            {
                continue; // inside an edit already made (a half in a finish reason that is mapped whole)
            }

            output.AddRange(payload[position..start]);
            output.AddRange(Encoding.UTF8.GetBytes(replacement));
            position = start + length;
        }

        output.AddRange(payload[position..]);
        return [.. output];
    }
}
