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
    /// Control characters other than line breaks and tabs: a carriage return or an escape sequence that an upstream
    /// quotes from the request (a caller's text) rewrote the operator's console through the text log.
    /// </summary>
    private static readonly SearchValues<char> Controls = SearchValues.Create(
        [.. Enumerable.Range(0, 0x20).Where(c => c is not '\n' and not '\t').Select(c => (char)c), .. Enumerable.Range(0x7F, 0x21).Select(c => (char)c)]);

    /// <summary>The text cut to <see cref="MaxLength"/>, its control characters written as <c>\uXXXX</c>.</summary>
    public static string Passable(string text)
    {
        var capped = text.Length <= MaxLength + NoteRoom ? text : $"{text[..MaxLength]}… ({text.Length - MaxLength} more characters)";
        return capped.AsSpan().ContainsAny(Controls) ? Escaped(capped) : capped;
    }

    private static string Escaped(string text)
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
