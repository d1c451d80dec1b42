using System.Globalization;
using System.Net.Http.Headers;

namespace Gateway.Providers;

/// <summary>
/// Reads how long an upstream asks to be left alone: OpenAI's <c>retry-after-ms</c> (milliseconds, which its SDKs read
/// first), else <c>Retry-After</c>, either a number of seconds or an HTTP date.
/// </summary>
internal static class RetryAfterHeader
{
    public const string MillisecondsName = "retry-after-ms";
    /// <summary>
    /// The longest wait read from the header: an upstream's "not for 10^14 s" (or "Infinity", which parses as a
    /// number) means "not any time soon", and a TimeSpan cannot hold every number a header can.
    /// </summary>
    internal static readonly TimeSpan Longest = TimeSpan.FromDays(1);

    /// <summary>The wait a response's headers ask for, if any.</summary>
    public static TimeSpan? Of(HttpResponseHeaders headers, DateTimeOffset now) =>
        Parse(Value(headers, MillisecondsName), Value(headers, "Retry-After"), now);

    // The raw values: the typed Retry-After takes only whole seconds below 2^31, so "1.5" or "1e20" would be no wait.
    private static string? Value(HttpResponseHeaders headers, string name) =>
        headers.NonValidated.TryGetValues(name, out var values) ? values.ToString() : null;

    /// <param name="milliseconds"><c>retry-after-ms</c>'s value, if any.</param>
    /// <param name="value"><c>Retry-After</c>'s value, if any.</param>
    /// <param name="now">The time an HTTP date is counted from.</param>
    public static TimeSpan? Parse(string? milliseconds, string? value, DateTimeOffset now) =>
        double.TryParse(milliseconds, NumberStyles.Float, CultureInfo.InvariantCulture, out var ms) && ms >= 0
            ? (ms < Longest.TotalMilliseconds ? TimeSpan.FromMilliseconds(ms) : Longest)
            : Parse(value, now);

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
