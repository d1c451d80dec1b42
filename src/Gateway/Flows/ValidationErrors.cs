namespace Gateway.Flows;

/// <summary>
/// Problems keyed by the JSON path of what caused them (<c>nodes[2].model</c>), collected all at once, up to
/// <see cref="MaxListed"/>: a body under the size limit that repeats one mistake (300 unknown fields on each of 250
/// nodes) was answered with every problem, a 400 of 6 MB for a request of 800 KB.
/// </summary>
internal sealed class ValidationErrors
{
    /// <summary>The problems an answer lists; the rest are counted under <see cref="MoreKey"/>.</summary>
    public const int MaxListed = 100;

    /// <summary>Where the count of the problems not listed goes: the body as a whole.</summary>
    public const string MoreKey = "$";

    private readonly Dictionary<string, List<string>> _errors = new(StringComparer.Ordinal);

    public bool IsEmpty => _errors.Count == 0;

    /// <summary>How many problems were added so far; lets a checker tell whether its own checks passed.</summary>
    public int Count { get; private set; }

    public void Add(string path, string message)
    {
        Count++;
        if (Count > MaxListed)
        {
            return;
        }

        if (!_errors.TryGetValue(path, out var messages))
        {
            messages = [];
            _errors[path] = messages;
        }

        messages.Add(message);
    }

    public Dictionary<string, string[]> ToDictionary()
    {
        var errors = _errors.ToDictionary(pair => pair.Key, pair => pair.Value.ToArray(), StringComparer.Ordinal);
        if (Count > MaxListed)
        {
            var more = $"... and {Count - MaxListed:N0} more problems, not listed: mend these and send it again.";
            errors[MoreKey] = errors.TryGetValue(MoreKey, out var atRoot) ? [.. atRoot, more] : [more];
        }

        return errors;
    }
}
