namespace Gateway.Flows;

/// <summary>Problems keyed by the JSON path of what caused them (<c>nodes[2].model</c>), collected all at once.</summary>
internal sealed class ValidationErrors
{
    /// <summary>
    /// The problems a 400 lists (<see cref="ToAnswer"/>); the rest are counted under <see cref="MoreKey"/>. A body under
    /// the size limit that repeats one mistake (300 unknown fields on each of 250 nodes) was answered with every problem
    /// until 2026-12-06: a 400 of 6 MB for a request of 800 KB. Only the answer is cut: a run request merges a flow's
    /// problems into its own, and tells a saved flow's from its tweaks', by all of them.
    /// </summary>
    public const int MaxListed = 100;

    /// <summary>Where the count of the problems not listed goes: the body as a whole.</summary>
    public const string MoreKey = "$";

    private readonly Dictionary<string, List<string>> _errors = new(StringComparer.Ordinal);

    public bool IsEmpty => _errors.Count == 0;

    /// <summary>How many problems were added so far; lets a checker tell whether its own checks passed.</summary>
    public int Count { get; private set; }

    public void Add(string path, string message)
    {
        if (!_errors.TryGetValue(path, out var messages))
        {
            messages = [];
            _errors[path] = messages;
        }

        messages.Add(message);
        Count++;
    }

    public Dictionary<string, string[]> ToDictionary() =>
        _errors.ToDictionary(pair => pair.Key, pair => pair.Value.ToArray(), StringComparer.Ordinal);

    /// <summary>The problems as a 400 lists them: the first <see cref="MaxListed"/>, then the count of the rest under <see cref="MoreKey"/>.</summary>
    public Dictionary<string, string[]> ToAnswer()
    {
        if (Count <= MaxListed)
        {
            return ToDictionary();
        }

        var listed = new Dictionary<string, string[]>(StringComparer.Ordinal);
        var left = MaxListed;
        foreach (var (path, messages) in _errors)
        {
            if (left == 0)
            {
                break;
            }

            string[] shown = [.. messages.Take(left)];
            listed[path] = shown;
            left -= shown.Length;
        }

        var more = $"... and {Count - MaxListed:N0} more problems, not listed: mend these and send it again.";
        listed[MoreKey] = listed.TryGetValue(MoreKey, out var atRoot) ? [.. atRoot, more] : [more];
        return listed;
    }
}
