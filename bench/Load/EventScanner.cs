namespace Bench.Load;

/// <summary>
/// Counts <c>data:</c> events and notices <c>[DONE]</c> in an SSE body fed in arbitrary pieces, without parsing
/// JSON, so the load generator spends as little CPU as it can. Both patterns start with a byte that does not
/// recur in them, which is what makes a one-state matcher exact.
/// </summary>
internal struct EventScanner
{
    private int _dataMatched;
    private int _doneMatched;

    public int Events { get; private set; }

    public bool SawDone { get; private set; }

    public void Feed(ReadOnlySpan<byte> bytes)
    {
        ReadOnlySpan<byte> data = "data:"u8;
        ReadOnlySpan<byte> done = "[DONE]"u8;
        foreach (var b in bytes)
        {
            if (Advance(ref _dataMatched, data, b))
            {
                Events++;
            }

            if (Advance(ref _doneMatched, done, b))
            {
                SawDone = true;
            }
        }
    }

    private static bool Advance(ref int matched, ReadOnlySpan<byte> pattern, byte b)
    {
        matched = b == pattern[matched] ? matched + 1 : b == pattern[0] ? 1 : 0;
        if (matched < pattern.Length)
        {
            return false;
        }

        matched = 0;
        return true;
    }
}
