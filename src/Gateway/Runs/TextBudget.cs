namespace Gateway.Runs;

/// <summary>
/// Characters a run may still take for one purpose, drawn by nodes that run at the same time. A draw is all or
/// nothing: nodes never hold more than the budget between them, and one that does not fit takes nothing from the others.
/// </summary>
internal sealed class TextBudget(long max)
{
    private long _drawn;

    public bool TryDraw(long length)
    {
        var drawn = Interlocked.Read(ref _drawn);
        while (true)
        {
            if (drawn + length > max)
            {
                return false;
            }

            var seen = Interlocked.CompareExchange(ref _drawn, drawn + length, drawn);
            if (seen == drawn)
            {
                return true;
            }

            drawn = seen;
        }
    }
}
