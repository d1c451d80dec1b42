using System.Collections.Concurrent;
using System.Globalization;
using System.Text;

namespace Gateway.Telemetry;

/// <summary>
/// OpenTelemetry names in Prometheus' text format 0.0.4: dots and other characters become underscores, the unit
/// becomes a suffix (<c>s</c> → <c>_seconds</c>; annotations such as <c>{token}</c> are dropped) and counters end
/// in <c>_total</c>, as the OpenTelemetry Prometheus exporter names them.
/// </summary>
internal static class PrometheusNames
{
    private static readonly ConcurrentDictionary<string, string> LabelNames = new(StringComparer.Ordinal);

    public static string Metric(string name, string? unit, bool isCounter)
    {
        var metric = Sanitize(name, allowColon: true);
        if (UnitSuffix(unit) is { } suffix && !metric.EndsWith("_" + suffix, StringComparison.Ordinal))
        {
            metric += "_" + suffix;
        }

        return isCounter ? metric + "_total" : metric;
    }

    /// <summary>Cached: label names are a handful of constants, looked up on every measurement.</summary>
    public static string Label(string name) => LabelNames.GetOrAdd(name, static n => Sanitize(n, allowColon: false));

    public static string Help(string text) => text.Replace(@"\", @"\\", StringComparison.Ordinal).Replace("\n", @"\n", StringComparison.Ordinal);

    public static string Value(double value) => value switch
    {
        double.PositiveInfinity => "+Inf",
        double.NegativeInfinity => "-Inf",
        double.NaN => "NaN",
        _ => value.ToString("R", CultureInfo.InvariantCulture),
    };

    private static string? UnitSuffix(string? unit) => unit switch
    {
        null or "" or "1" => null,
        ['{', .., '}'] => null,
        "s" => "seconds",
        "ms" => "milliseconds",
        "By" => "bytes",
        _ => Sanitize(unit, allowColon: false).ToLowerInvariant(),
    };

    private static string Sanitize(string name, bool allowColon)
    {
        var builder = new StringBuilder(name.Length + 1);
        if (name.Length == 0 || char.IsAsciiDigit(name[0]))
        {
            builder.Append('_');
        }

        foreach (var c in name)
        {
            builder.Append(char.IsAsciiLetterOrDigit(c) || c == '_' || (allowColon && c == ':') ? c : '_');
        }

        return builder.ToString();
    }
}
