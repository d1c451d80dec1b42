using System.Globalization;

namespace Bench.Load;

/// <summary><c>--name value</c> pairs from the command line.</summary>
internal sealed class Options
{
    private readonly Dictionary<string, string> _values = new(StringComparer.Ordinal);

    public Options(IEnumerable<string> args)
    {
        using var enumerator = args.GetEnumerator();
        while (enumerator.MoveNext())
        {
            var name = enumerator.Current;
            _values[name] = enumerator.MoveNext() ? enumerator.Current : throw new ArgumentException($"{name} needs a value.");
        }
    }

    public string Text(string name, string? fallback = null) =>
        _values.TryGetValue(name, out var value) ? value : fallback ?? throw new ArgumentException($"{name} is required.");

    public int Int(string name, int fallback) =>
        _values.TryGetValue(name, out var value) ? int.Parse(value, CultureInfo.InvariantCulture) : fallback;

    public int? OptionalInt(string name) =>
        _values.TryGetValue(name, out var value) && value.Length > 0 ? int.Parse(value, CultureInfo.InvariantCulture) : null;

    /// <summary><c>Name: value</c> request headers separated by <c>|</c> (a value may hold colons); none when absent.</summary>
    public IReadOnlyList<(string Name, string Value)> Headers(string name) =>
        _values.TryGetValue(name, out var value)
            ? [.. value.Split('|', StringSplitOptions.RemoveEmptyEntries).Select(header =>
                header.IndexOf(':') is > 0 and var colon
                    ? (header[..colon].Trim(), header[(colon + 1)..].Trim())
                    : throw new ArgumentException($"{name}: '{header}' is not 'Name: value'."))]
            : [];

    /// <summary>Comma-separated process ids; empty when absent.</summary>
    public IReadOnlyList<int> Pids(string name) =>
        _values.TryGetValue(name, out var value)
            ? [.. value.Split(',', StringSplitOptions.RemoveEmptyEntries).Select(p => int.Parse(p, CultureInfo.InvariantCulture))]
            : [];
}
