using System.Globalization;

namespace Gateway.Hosting;

/// <summary>
/// Reads numbers and dates from query values strictly. The runtime's parsers forgive what no client means to send: a
/// trailing NUL (<c>?after=1%00</c> was event 1, <c>?limit=5%00</c> five runs) and, in a date, a trailing tab or line
/// break. A client that sent such bytes has a bug worth a 400, not an answer to a question it did not ask.
/// </summary>
internal static class QueryValues
{
    /// <summary>Only the ASCII digits, no sign or space, and no larger than a <see cref="long"/>.</summary>
    public static bool TryWholeNumber(string value, out long number)
    {
        number = 0;
        return value.Length > 0
            && !value.AsSpan().ContainsAnyExceptInRange('0', '9')
            && long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out number);
    }

    /// <summary>Whether the value holds a C0 control character (a NUL, tab or line break among them) or DEL.</summary>
    public static bool HasControlCharacters(string value) =>
        value.AsSpan().ContainsAnyInRange('\0', '\u001f') || value.Contains('\u007f', StringComparison.Ordinal);
}
