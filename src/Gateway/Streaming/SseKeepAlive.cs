namespace Gateway.Streaming;

/// <summary>
/// Sends <c>: keep-alive</c> on an <see cref="SseWriter"/> whenever nothing else has been written for an
/// interval, from a timer, while the stream's own writer waits for its next event. Every write goes through
/// <see cref="EnterAsync"/> and <see cref="Exit"/>: a semaphore that costs nothing uncontended, and one timer
/// reset per event, so the token path allocates nothing more. Armed by <see cref="Start"/> or the first
/// <see cref="Exit"/>.
/// </summary>
internal sealed class SseKeepAlive : IAsyncDisposable
{
    private readonly SseWriter _sse;
    private readonly TimeSpan _interval;
    private readonly CancellationToken _cancellationToken;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly ITimer _timer;
    private bool _stopped;

    /// <summary>Whether the stream's own writer holds the gate; only that writer reads or sets it.</summary>
    private bool _held;

    public SseKeepAlive(SseWriter sse, TimeSpan interval, TimeProvider timeProvider, CancellationToken cancellationToken)
    {
        _sse = sse;
        _interval = interval;
        _cancellationToken = cancellationToken;
        _timer = timeProvider.CreateTimer(static state => _ = ((SseKeepAlive)state!).BeatAsync(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    /// <summary>Waits for a keep-alive being written, if one is; then the caller may write.</summary>
    public async Task EnterAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        _held = true;
    }

    /// <summary>Arms the keep-alives, or re-arms them after a write: the next is a full interval away.</summary>
    public void Start() => _timer.Change(_interval, _interval);

    /// <summary>Ends the caller's write: the next keep-alive is a full interval away.</summary>
    public void Exit()
    {
        _held = false;
        Start();
        _gate.Release();
    }

    /// <summary>Stops the keep-alives for good, after one still being written: before a stream's last writes.</summary>
    public async Task StopAsync()
    {
        if (_stopped)
        {
            return;
        }

        _stopped = true;
        await _timer.DisposeAsync();
        // A write that failed (the client went away) never exited: the writer holds the gate already.
        if (!_held)
        {
            await _gate.WaitAsync(CancellationToken.None);
            _held = true;
        }
    }

    private async Task BeatAsync()
    {
        try
        {
            // Busy means an event is being written: the stream is not idle.
            if (!_gate.Wait(0))
            {
                return;
            }

            try
            {
                await _sse.WriteKeepAliveAsync(_cancellationToken);
            }
            finally
            {
                _gate.Release();
            }
        }
        catch (Exception exception) when (exception is OperationCanceledException or IOException or ObjectDisposedException)
        {
            // The client has gone (the stream's writer finds out on its next write), or the stream has ended.
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        _gate.Dispose();
    }
}
