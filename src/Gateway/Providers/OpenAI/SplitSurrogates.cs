using System.Buffers.Text;
using System.Text;
using System.Text.Json;

namespace Gateway.Providers.OpenAI;

/// <summary>
/// Joins a character that an upstream cut in two. Outside the Basic Multilingual Plane (an emoji, say) a character is
/// two UTF-16 units, and a server that cuts its text by units (a JavaScript one slicing strings) can send
/// <c>"\ud83d"</c> in one chunk and <c>"\ude00"</c> in the next. Neither half alone is text the JSON reader gives
/// out, so the stream failed on a good answer. One per text field of a stream: a text that ends in a first half keeps
/// it back for the next; a half with no partner becomes U+FFFD, as a UTF-8 decoder makes a broken sequence.
/// </summary>
internal sealed class SplitSurrogates
{
    private char _held;

    /// <summary>The current JSON string token's text, with a first half at its end kept back for the next one.</summary>
    public string Read(ref Utf8JsonReader reader)
    {
        string text;
        try
        {
            text = reader.GetString()!;
            if (_held == '\0')
            {
                return text; // the reader checked it whole: no half anywhere in it
            }
        }
        catch (InvalidOperationException) when (reader.ValueIsEscaped)
        {
            text = UnescapeKeepingHalves(reader.ValueSpan);
        }

        if (_held != '\0')
        {
            text = _held + text;
            _held = '\0';
        }

        if (text.Length > 0 && char.IsHighSurrogate(text[^1]))
        {
            _held = text[^1];
            text = text[..^1];
        }

        // Any half left without its partner: U+FFFD in its place (the encoder's replacement fallback).
        return Encoding.UTF8.GetString(Encoding.UTF8.GetBytes(text));
    }

    /// <summary>At the stream's end: U+FFFD for a first half still held, whose second never came; else null.</summary>
    public string? Flush()
    {
        if (_held == '\0')
        {
            return null;
        }

        _held = '\0';
        return "\uFFFD";
    }

    /// <summary>A JSON string's escaped bytes as text, where a lone <c>\uD800</c>-<c>\uDFFF</c> is kept as it is.</summary>
    private static string UnescapeKeepingHalves(ReadOnlySpan<byte> escaped)
    {
        // The reader has checked the escapes' syntax while reading the token.
        var text = new StringBuilder(escaped.Length);
        while (!escaped.IsEmpty)
        {
            var backslash = escaped.IndexOf((byte)'\\');
            if (backslash < 0)
            {
                text.Append(Encoding.UTF8.GetString(escaped));
                break;
            }

            text.Append(Encoding.UTF8.GetString(escaped[..backslash]));
            var escape = escaped[backslash + 1];
            if (escape == (byte)'u')
            {
                text.Append(Utf8Parser.TryParse(escaped.Slice(backslash + 2, 4), out ushort unit, out _, 'X') ? (char)unit : '\uFFFD');
                escaped = escaped[(backslash + 6)..];
                continue;
            }

            text.Append(escape switch
            {
                (byte)'n' => '\n',
                (byte)'r' => '\r',
                (byte)'t' => '\t',
                (byte)'b' => '\b',
                (byte)'f' => '\f',
                _ => (char)escape, // \" \\ \/
            });
            escaped = escaped[(backslash + 2)..];
        }

        return text.ToString();
    }
}
