namespace Gateway.Providers.Simulated;

/// <summary>
/// Ends a simulated completion where a stop sequence begins, as a model does: the text before it is sent, the sequence
/// and all after it are not, and the completion finishes with <c>stop</c>. A sequence may span tokens, so the end of
/// the text that could still begin one is held back until the next token shows whether it does.
/// </summary>
internal sealed class StopSequenceCutter
{
    private readonly IList<string> _stops;
    private string _held = "";

    private StopSequenceCutter(IList<string> stops) => _stops = stops;

    public static StopSequenceCutter? For(IList<string>? stops) =>
        stops is { Count: > 0 } && stops.All(stop => stop.Length > 0) ? new StopSequenceCutter(stops) : null;

    /// <summary>Text held back when the tokens ran out: it began no sequence after all.</summary>
    public string Rest => _held;

    /// <summary>What of <paramref name="token"/> (and of the text held back before it) may be sent now.</summary>
    /// <param name="token">The next token.</param>
    /// <param name="stopped">Whether a stop sequence began: nothing more is to be sent.</param>
    public string Take(string token, out bool stopped)
    {
        var text = _held + token;
        var earliest = -1;
        foreach (var stop in _stops)
        {
            var at = text.IndexOf(stop, StringComparison.Ordinal);
            if (at >= 0 && (earliest < 0 || at < earliest))
            {
                earliest = at;
            }
        }

        if (earliest >= 0)
        {
            stopped = true;
            _held = "";
            return text[..earliest];
        }

        stopped = false;
        var hold = LongestEndThatBeginsAStop(text);
        _held = text[^hold..];
        return text[..^hold];
    }

    private int LongestEndThatBeginsAStop(string text)
    {
        var longest = 0;
        foreach (var stop in _stops)
        {
            for (var length = Math.Min(stop.Length - 1, text.Length); length > longest; length--)
            {
                if (text.AsSpan(text.Length - length).SequenceEqual(stop.AsSpan(0, length)))
                {
                    longest = length;
                    break;
                }
            }
        }

        return longest;
    }
}
