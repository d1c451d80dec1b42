using System.Globalization;

namespace Gateway.Hosting;

/// <summary>
/// Reads numbers and dates from query values strictly. The runtime's parsers forgive what no client means to send: a
/// trailing NUL (<c>?after=1%00</c> was event 1, <c>?limit=5%00</c> five runs) and, in a date, a trailing tab or line
/// break or a space. A client that sent such bytes has a bug worth a 400, not an answer to a question it did not ask.
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

    /// <summary>
    /// A position among ids that count up from 1 (a run's events): a <see cref="TryWholeNumber"/>, but one of more
    /// digits than a <see cref="long"/> holds is read as <see cref="long.MaxValue"/>, past every id as the number is.
    /// A cursor past the last id is answered as such however many digits it has: as the largest long it was, one past
    /// it was refused as malformed (a 204 for an ended run, and a 400 for the same question one digit longer).
    /// </summary>
    public static bool TryPosition(string value, out long position)
    {
        if (TryWholeNumber(value, out position))
        {
            return true;
        }

        if (value.Length == 0 || value.AsSpan().ContainsAnyExceptInRange('0', '9'))
        {
            return false;
        }

        position = long.MaxValue;
        return true;
    }

    /// <summary>
    /// Whether the value holds anything but printable ASCII, or ends in a space: an ISO 8601 date is printable ASCII,
    /// and the runtime's date parser forgives after one not only a NUL, tab or line break but any white space (a space,
    /// a no-break space, U+0085, U+2028, U+3000).
    /// </summary>
    public static bool HasOtherThanBareAscii(string value) =>
        value.AsSpan().ContainsAnyExceptInRange(' ', '~') || value.EndsWith(' ');
}
