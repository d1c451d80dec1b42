namespace Gateway.Providers.Simulated;

/// <summary>
/// Ends a simulated completion where a stop sequence begins, as a model does: the text before it is sent, the sequence
/// and all after it are not, and the completion finishes with <c>stop</c>. A sequence may span tokens, so the end of
/// the text that could still begin one is held back until the next token shows whether it does. Each sequence is
/// followed by a matcher (Knuth–Morris–Pratt) that reads every character once, so a long sequence costs each token
/// its length, not the square of the sequence's.
/// </summary>
internal sealed class StopSequenceCutter
{
    private readonly Matcher[] _matchers;
    private string _held = "";

    private StopSequenceCutter(Matcher[] matchers) => _matchers = matchers;

    /// <summary>A cutter for the usable sequences among <paramref name="stops"/>; null when there are none.</summary>
    public static StopSequenceCutter? For(IList<string>? stops) =>
        StopSequences.Usable(stops) is { } usable ? new StopSequenceCutter([.. usable.Select(stop => new Matcher(stop))]) : null;

    /// <summary>Text held back when the tokens ran out: it began no sequence after all.</summary>
    public string Rest => _held;

    /// <summary>What of <paramref name="token"/> (and of the text held back before it) may be sent now.</summary>
    /// <param name="token">The next token.</param>
    /// <param name="stopped">Whether a stop sequence is complete: nothing more is to be sent.</param>
    public string Take(string token, out bool stopped)
    {
        var text = _held + token;
        for (var i = 0; i < token.Length; i++)
        {
            // Of the sequences that end at this character, the longest began first.
            var longest = 0;
            foreach (var matcher in _matchers)
            {
                if (matcher.Read(token[i]) && matcher.Length > longest)
                {
                    longest = matcher.Length;
                }
            }

            if (longest > 0)
            {
                // It began within the text held back or the token: the held text is at least as long as any
                // sequence's part matched before the token.
                stopped = true;
                var end = _held.Length + i + 1;
                _held = "";
                return text[..(end - longest)];
            }
        }

        stopped = false;
        var hold = _matchers.Max(matcher => matcher.Matched);
        _held = text[^hold..];
        return text[..^hold];
    }

    /// <summary>How much of one sequence the text read so far ends with.</summary>
    private sealed class Matcher
    {
        private readonly string _stop;

        /// <summary>For each prefix of the sequence, the longest proper prefix that is also its suffix.</summary>
        private readonly int[] _fallback;

        public Matcher(string stop)
        {
            _stop = stop;
            _fallback = new int[stop.Length];
            for (int i = 1, k = 0; i < stop.Length; i++)
            {
                while (k > 0 && stop[i] != stop[k])
                {
                    k = _fallback[k - 1];
                }

                if (stop[i] == stop[k])
                {
                    k++;
                }

                _fallback[i] = k;
            }
        }

        public int Length => _stop.Length;

        /// <summary>How many of the sequence's first characters the text read so far ends with (less than all of them).</summary>
        public int Matched { get; private set; }

        /// <summary>Reads one more character; true when the text now ends with the whole sequence.</summary>
        public bool Read(char c)
        {
            var k = Matched;
            while (k > 0 && c != _stop[k])
            {
                k = _fallback[k - 1];
            }

            if (c == _stop[k])
            {
                k++;
            }

            if (k == _stop.Length)
            {
                Matched = 0;
                return true;
            }

            Matched = k;
            return false;
        }
    }
}
