using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace Gateway.Runs;

/// <summary>
/// <c>GET /api/runs/{runId}</c>'s answer made from the record's JSON as the store holds it, without reading it into a
/// <see cref="RunRecord"/> and writing that out again. A record holds every node's output and may weigh megabytes:
/// read as a string, deserialized and serialized again, one GET of a 2.5 MB record allocated ~17 MB on the large
/// object heap, and 300 concurrent GETs took the process from 0.2 to 2.8 GB, which it kept. This way one GET holds the
/// record's UTF-8 bytes and nothing more, and writes them out in pieces.
/// </summary>
internal static class StoredRunRecord
{
    /// <summary>
    /// What is written before each flush: a client that stops reading holds this much of the answer in the response's
    /// buffers, not the record (as <see cref="Streaming.SseWriter"/> does with large events).
    /// </summary>
    public const int PieceBytes = 16 * 1024;

    /// <summary>What the API writes JSON with (GatewayHostingExtensions); the store writes with the serializer's default.</summary>
    private static readonly JavaScriptEncoder ApiEncoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping;

    /// <summary>
    /// Turns a stored record's JSON, in place, into the bytes the API writes for that record: the store escapes every
    /// character that is not plain ASCII (<c>\u0027</c> for <c>'</c>, <c>\u00E9</c> for <c>é</c>, <c>\u0022</c> for a
    /// quote), the API only what JSON needs (<c>'</c>, <c>é</c>, <c>\"</c>). Every escape is decoded and written again as
    /// the API's encoder writes that character; everything else is the same in both, as both are the serializer's
    /// compact output of one type. Never longer than what it replaces, so it is done in place.
    /// </summary>
    /// <returns>
    /// The length of the API's JSON; or -1 when the text is not a record this gateway would answer as it is (not JSON,
    /// another version's shape, a lone surrogate): the caller reads it the old way, which decides. The text is then unchanged.
    /// </returns>
    public static int ToApiJson(byte[] json)
    {
        if (!HasRecordShape(json) || !TryRewrite(json, dryRun: true, out _))
        {
            return -1;
        }

        TryRewrite(json, dryRun: false, out var length);
        return length;
    }

    /// <summary>
    /// Whether the text is JSON of the record's shape as this build writes it: every member of every object, in order,
    /// none more. A record stored by another version (one written before a member was added, such as
    /// <c>upstreamRequestId</c>) is not: read and written again, it gets the member as <c>null</c>, which every answer
    /// carries, so clients see one shape.
    /// </summary>
    private static bool HasRecordShape(ReadOnlySpan<byte> json)
    {
        try
        {
            var reader = new Utf8JsonReader(json);
            return reader.Read() && reader.TokenType == JsonTokenType.StartObject
                && HasShape(ref reader, RunsJsonContext.Default.RunRecord) && !reader.Read();
        }
        catch (JsonException)
        {
            return false;
        }
    }

    /// <summary>Whether the value at the reader (on its first token) is one <paramref name="type"/> writes; the reader ends on its last token.</summary>
    private static bool HasShape(ref Utf8JsonReader reader, JsonTypeInfo type)
    {
        switch (type.Kind)
        {
            case JsonTypeInfoKind.Object when reader.TokenType == JsonTokenType.StartObject:
                foreach (var property in type.Properties)
                {
                    if (!reader.Read() || reader.TokenType != JsonTokenType.PropertyName || !reader.ValueTextEquals(property.Name)
                        || !reader.Read() || !HasShape(ref reader, type.Options.GetTypeInfo(property.PropertyType)))
                    {
                        return false;
                    }
                }

                return reader.Read() && reader.TokenType == JsonTokenType.EndObject;
            case JsonTypeInfoKind.Dictionary when reader.TokenType == JsonTokenType.StartObject:
                var value = type.Options.GetTypeInfo(type.ElementType!);
                while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                {
                    if (!reader.Read() || !HasShape(ref reader, value))
                    {
                        return false;
                    }
                }

                return reader.TokenType == JsonTokenType.EndObject;
            case JsonTypeInfoKind.Object or JsonTypeInfoKind.Dictionary:
                return reader.TokenType == JsonTokenType.Null;
            default:
                // A string, number or null: what the record holds as one value.
                return reader.TokenType is JsonTokenType.String or JsonTokenType.Number or JsonTokenType.Null;
        }
    }

    private static bool TryRewrite(byte[] json, bool dryRun, out int length)
    {
        Span<byte> utf8 = stackalloc byte[4];
        Span<byte> encoded = stackalloc byte[16];
        int read = 0, written = 0;
        while (true)
        {
            var next = json.AsSpan(read).IndexOf((byte)'\\');
            var plain = next < 0 ? json.Length - read : next;
            if (!dryRun)
            {
                json.AsSpan(read, plain).CopyTo(json.AsSpan(written));
            }

            read += plain;
            written += plain;
            if (next < 0)
            {
                length = written;
                return true;
            }

            if (!TryReadEscape(json, read, out var scalar, out var consumed))
            {
                length = 0;
                return false;
            }

            var utf8Length = scalar.EncodeToUtf8(utf8);
            if (ApiEncoder.EncodeUtf8(utf8[..utf8Length], encoded, out _, out var encodedLength) != System.Buffers.OperationStatus.Done
                || encodedLength > consumed)
            {
                length = 0;
                return false;
            }

            if (!dryRun)
            {
                encoded[..encodedLength].CopyTo(json.AsSpan(written));
            }

            read += consumed;
            written += encodedLength;
        }
    }

    /// <summary>The character of the escape at <paramref name="at"/> (a surrogate pair's two escapes are one).</summary>
    private static bool TryReadEscape(byte[] json, int at, out Rune scalar, out int consumed)
    {
        scalar = default;
        consumed = 2;
        if (at + 1 >= json.Length)
        {
            return false;
        }

        char simple = (char)json[at + 1] switch
        {
            '"' => '"',
            '\\' => '\\',
            '/' => '/',
            'b' => '\b',
            'f' => '\f',
            'n' => '\n',
            'r' => '\r',
            't' => '\t',
            _ => '\0',
        };
        if (simple != '\0')
        {
            scalar = new Rune(simple);
            return true;
        }

        if (json[at + 1] != 'u' || !TryReadHex(json, at + 2, out var unit))
        {
            return false;
        }

        consumed = 6;
        if (!char.IsSurrogate(unit))
        {
            scalar = new Rune(unit);
            return true;
        }

        if (!char.IsHighSurrogate(unit) || at + 12 > json.Length || json[at + 6] != '\\' || json[at + 7] != 'u'
            || !TryReadHex(json, at + 8, out var low) || !char.IsLowSurrogate(low))
        {
            return false;
        }

        consumed = 12;
        scalar = new Rune(unit, low);
        return true;
    }

    private static bool TryReadHex(byte[] json, int at, out char unit)
    {
        unit = '\0';
        if (at + 4 > json.Length)
        {
            return false;
        }

        var value = 0;
        for (var i = at; i < at + 4; i++)
        {
            var digit = HexDigit(json[i]);
            if (digit < 0)
            {
                return false;
            }

            value = (value << 4) | digit;
        }

        unit = (char)value;
        return true;
    }

    private static int HexDigit(byte b) => b switch
    {
        >= (byte)'0' and <= (byte)'9' => b - '0',
        >= (byte)'A' and <= (byte)'F' => b - 'A' + 10,
        >= (byte)'a' and <= (byte)'f' => b - 'a' + 10,
        _ => -1,
    };
}

/// <summary>A run record's JSON, already in the API's form (<see cref="StoredRunRecord.ToApiJson"/>), as <c>Ok&lt;RunRecord&gt;</c> writes it.</summary>
internal sealed class RunRecordJsonResult(ReadOnlyMemory<byte> json) : IResult
{
    public async Task ExecuteAsync(HttpContext httpContext)
    {
        var response = httpContext.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "application/json; charset=utf-8";
        // Each write is flushed: a client that does not read holds one piece in the response's buffers. Once the
        // connection is gone (the client left, or Kestrel's MinResponseDataRate cut it) the writes do nothing.
        for (var offset = 0; offset < json.Length && !httpContext.RequestAborted.IsCancellationRequested; offset += StoredRunRecord.PieceBytes)
        {
            await response.Body.WriteAsync(json.Slice(offset, Math.Min(StoredRunRecord.PieceBytes, json.Length - offset)));
        }
    }
}
