using System.Globalization;

namespace Gateway.Providers;

/// <summary>Reads <c>Retry-After</c>, which is either a number of seconds or an HTTP date.</summary>
internal static class RetryAfterHeader
{
    /// <summary>
    /// The longest wait read from the header: an upstream's "not for 10^14 s" (or "Infinity", which parses as a
    /// number) means "not any time soon", and a TimeSpan cannot hold every number a header can.
    /// </summary>
    internal static readonly TimeSpan Longest = TimeSpan.FromDays(1);

    public static TimeSpan? Parse(string? value, DateTimeOffset now)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return null;
        }

        if (double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds))
        {
            return seconds >= 0 ? (seconds < Longest.TotalSeconds ? TimeSpan.FromSeconds(seconds) : Longest) : null;
        }

        if (DateTimeOffset.TryParseExact(value, "r", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var date))
        {
            var delay = date - now;
            return delay <= TimeSpan.Zero ? TimeSpan.Zero : delay < Longest ? delay : Longest;
        }

        return null;
    }
}
