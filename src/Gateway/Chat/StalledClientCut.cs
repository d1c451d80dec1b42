namespace Gateway.Chat;

/// <summary>
/// Cuts off a <c>/v1</c> stream whose client stopped reading but keeps its socket open. Such a client holds a write,
/// and the stream's clocks are read only between writes: it held its upstream generation for as long as the socket
/// stayed open (300 s under a 20 s total timeout, in a probe). At the call's total timeout a stream still open
/// <see cref="Grace"/> later (time for a reading client to take its error event) is aborted, and its upstream call with
/// it. Not when the caller left, nor at the shutdown drain's stop, which has its own cut (<c>ShutdownDrain.Closing</c>).
/// </summary>
internal sealed class StalledClientCut : IDisposable
{
    private static readonly TimeSpan Grace = TimeSpan.FromSeconds(1);

    private readonly HttpContext _httpContext;
    private readonly TimeProvider _clock;
    private readonly CancellationToken _callerOrDrain;
    private readonly CancellationTokenRegistration _registration;
    // Held by the cut and by the stream's end, so that the end waits for a cut under way: a cut that saw the stream
    // open and aborted after its end would abort the next request on the connection, which may reuse the HttpContext.
    private readonly Lock _gate = new();
    private ITimer? _grace;
    private bool _ended;
    private volatile bool _cutOff;

    /// <param name="httpContext">The stream's request.</param>
    /// <param name="clock">For the grace.</param>
    /// <param name="deadline">Cancelled at the total timeout, and also when <paramref name="callerOrDrain"/> is.</param>
    /// <param name="callerOrDrain">The caller's leaving or the drain's stop, which are not this cut's to act on.</param>
    public StalledClientCut(HttpContext httpContext, TimeProvider clock, CancellationToken deadline, CancellationToken callerOrDrain)
    {
        _httpContext = httpContext;
        _clock = clock;
        _callerOrDrain = callerOrDrain;
        _registration = deadline.UnsafeRegister(static state => ((StalledClientCut)state!).OnDeadline(), this);
    }

    /// <summary>Whether the stream was cut off here: its end is the total timeout's, not its caller's leaving.</summary>
    public bool CutOff => _cutOff;

    private void OnDeadline()
    {
        if (!Volatile.Read(ref _ended) && !_callerOrDrain.IsCancellationRequested)
        {
            _grace = _clock.CreateTimer(static state => ((StalledClientCut)state!).CutIfStillOpen(), this, Grace, Timeout.InfiniteTimeSpan);
        }
    }

    private void CutIfStillOpen()
    {
        lock (_gate)
        {
            if (!_ended)
            {
                _cutOff = true;
                _httpContext.Abort();
            }
        }
    }

    /// <summary>The stream has ended: nothing is cut after this (a cut under way is waited for).</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            _ended = true;
        }

        // Waits for OnDeadline if it is running, so that the timer it makes is there to be disposed.
        _registration.Dispose();
        _grace?.Dispose();
    }
}
