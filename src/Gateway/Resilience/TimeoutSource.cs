namespace Gateway.Resilience;

/// <summary>
/// A cancellation source with a clock of its own that also cancels when a parent token does: what a timer source
/// linked with <see cref="CancellationTokenSource.CreateLinkedTokenSource(CancellationToken, CancellationToken)"/>
/// gives, as one source and one registration instead of two sources and a registration per parent. Every streamed
/// request holds two of these for its whole life (the total timeout, and an attempt's first-token and idle clock), so
/// thousands of open streams hold half as many.
/// </summary>
internal sealed class TimeoutSource : CancellationTokenSource
{
    private readonly CancellationTokenRegistration _parent;

    /// <param name="delay">When the clock runs out; <see cref="Timeout.InfiniteTimeSpan"/> to arm it later with <see cref="CancellationTokenSource.CancelAfter(TimeSpan)"/>.</param>
    /// <param name="timeProvider">The clock.</param>
    /// <param name="parent">Cancels this source too; it may already be cancelled.</param>
    public TimeoutSource(TimeSpan delay, TimeProvider timeProvider, CancellationToken parent)
        : base(delay, timeProvider)
    {
        _parent = parent.UnsafeRegister(static source => ((TimeoutSource)source!).Cancel(), this);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _parent.Dispose();
        }

        base.Dispose(disposing);
    }
}
