using System.Buffers;
using System.Globalization;
using System.Text;

namespace Gateway.Providers;

/// <summary>
/// An upstream's own words (an error message), as the gateway passes them on to a caller and into its log. An upstream
/// may quote the whole request back (some validation errors do): 3 MB of it went to the caller and into one log line
/// per call. What is kept is enough for any real error message.
/// </summary>
internal static class UpstreamText
{
    public const int MaxLength = 4096;

    // Room for the note a cut text ends with: cutting a text twice (it may pass two translators) changes nothing.
    private const int NoteRoom = 64;

    /// <summary>
    /// Control characters other than line feeds and tabs: a carriage return or an escape sequence that an upstream
    /// quotes from the request (a caller's text) rewrote the operator's console through the text log.
    /// </summary>
    private static readonly SearchValues<char> Controls = SearchValues.Create(
        [.. Enumerable.Range(0, 0x20).Where(c => c is not '\n' and not '\t').Select(c => (char)c), .. Enumerable.Range(0x7F, 0x21).Select(c => (char)c)]);

    /// <summary>
    /// The text fit to pass on and to log: its control characters written as <c>\uXXXX</c>, then cut to
    /// <see cref="MaxLength"/> with a note of how many more characters there were. Escaped first, so that the cut bounds
    /// what is passed on and cuts no escape (nor a surrogate pair) in two; only what can be kept is escaped. A text
    /// passed twice comes out as it came out once.
    /// </summary>
    public static string Passable(string text)
    {
        if (!text.AsSpan().ContainsAny(Controls))
        {
            return text.Length <= MaxLength + NoteRoom ? text : Cut(text, text.Length, escaped: false);
        }

        var length = text.Length + (5 * Count(text)); // each control character becomes six
        var kept = Escaped(text.AsSpan(0, Math.Min(text.Length, MaxLength + NoteRoom + 1)));
        return length <= MaxLength + NoteRoom ? kept : Cut(kept, length, escaped: true);
    }

    /// <summary>The text with its control characters other than line feeds and tabs written as <c>\uXXXX</c>, whole.</summary>
    public static string Printable(string text) => text.AsSpan().ContainsAny(Controls) ? Escaped(text) : text;

    /// <param name="text">At least <see cref="MaxLength"/> characters.</param>
    /// <param name="length">The length of the whole text, escaped, of which <paramref name="text"/> may be the start.</param>
    /// <param name="escaped">Whether <paramref name="text"/> holds escapes that must not be cut in two.</param>
    private static string Cut(string text, int length, bool escaped)
    {
        var end = MaxLength;
        if (char.IsHighSurrogate(text[end - 1]))
        {
            end--;
        }

        // An escape is six characters: one that starts in the last five is cut before its backslash.
        if (escaped && text.AsSpan(end - 5, 5).LastIndexOf('\\') is >= 0 and var backslash)
        {
            end = end - 5 + backslash;
        }

        return $"{text[..end]}… ({length - end} more characters)";
    }

    private static int Count(string text)
    {
        var count = 0;
        for (var rest = text.AsSpan(); rest.IndexOfAny(Controls) is >= 0 and var at; rest = rest[(at + 1)..])
        {
            count++;
        }

        return count;
    }

    private static string Escaped(ReadOnlySpan<char> text)
    {
        var escaped = new StringBuilder(text.Length + 16);
        foreach (var c in text)
        {
            if (Controls.Contains(c))
            {
                escaped.Append(CultureInfo.InvariantCulture, $"\\u{(int)c:x4}");
            }
            else
            {
                escaped.Append(c);
            }
        }

        return escaped.ToString();
    }
}
