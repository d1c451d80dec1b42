using Gateway.Telemetry;
using Microsoft.Extensions.Options;

namespace Gateway.Streaming;

/// <summary>
/// How a stopping gateway ends its streams, so that none is cut off by the process exiting. When the host begins to
/// stop (SIGTERM), the streams under way get <c>Gateway:Streaming:ShutdownDrainSeconds</c> to finish on their own.
/// Then <see cref="Stopped"/> is cancelled: a /v1 stream still open ends with its error event, a run still going
/// ends <c>interrupted</c> with its terminal event. <see cref="Closing"/> follows: the run watchers still open (a run
/// another replica executes) are closed cleanly, for their clients to resume elsewhere with <c>Last-Event-ID</c>, and a
/// stream whose client stopped reading (so its last event could not go out) is cut off.
/// The host waits <see cref="Margin"/> past the drain for all of it.
/// </summary>
internal sealed partial class ShutdownDrain(
    IHostApplicationLifetime lifetime, IOptions<StreamingOptions> options, GatewayMetrics metrics, TimeProvider timeProvider, ILogger<ShutdownDrain> logger)
    : IHostedService, IDisposable
{
    /// <summary>What the host waits beyond the drain: for interrupted runs to store their end and watchers to close.</summary>
    public static readonly TimeSpan Margin = TimeSpan.FromSeconds(10);

    private static readonly TimeSpan CloseAfterStop = TimeSpan.FromSeconds(5);

    private readonly CancellationTokenSource _stopped = new();
    private readonly CancellationTokenSource _closing = new();
    private readonly CancellationTokenSource _disposed = new();
    private readonly CancellationTokenSource _hurried = new();
    private CancellationTokenRegistration _onStopping;
    private Func<int> _runsExecuting = static () => 0;

    /// <summary>Cancelled when the drain has run out: streams still open are ended now.</summary>
    public CancellationToken Stopped => _stopped.Token;

    /// <summary>Cancelled a few seconds after <see cref="Stopped"/>: watchers still open are closed, /v1 streams still open cut off.</summary>
    public CancellationToken Closing => _closing.Token;

    /// <summary>
    /// How many runs execute here, for the drain's log (the runs' owner depends on the drain, so it tells it this rather
    /// than the drain asking it).
    /// </summary>
    public void CountRunsWith(Func<int> runsExecuting) => _runsExecuting = runsExecuting;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _onStopping = lifetime.ApplicationStopping.Register(static state =>
        {
            _ = ((ShutdownDrain)state!).EndStreamsAsync();
        }, this);
        return Task.CompletedTask;
    }

    /// <summary>
    /// Ends the drain now (a second stop signal: an operator who pressed Ctrl+C again will not wait it out): the streams
    /// still open are ended at once, with their final events, rather than when the drain runs out.
    /// </summary>
    public void Hurry()
    {
        try
        {
            _hurried.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // The host is gone already.
        }
    }

    /// <summary>
    /// Off the thread that signalled the stop: cancelling runs every stream's and run's callbacks, and one that
    /// throws is logged here rather than thrown on a timer's thread, where it would end the process.
    /// </summary>
    private async Task EndStreamsAsync()
    {
        var drain = options.Value.ShutdownDrain;
        var disposed = _disposed.Token;
        try
        {
            // Said as the wait starts: an operator watching the log otherwise sees nothing for the whole drain.
            var (v1Calls, runs, runStreams) = OpenWork();
            LogDraining(logger, drain.TotalSeconds, v1Calls, runs, runStreams);
            using (var waiting = CancellationTokenSource.CreateLinkedTokenSource(disposed, _hurried.Token))
            {
                await Task.Delay(drain, timeProvider, waiting.Token).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }

            disposed.ThrowIfCancellationRequested();
            (v1Calls, runs, runStreams) = OpenWork();
            if (_hurried.IsCancellationRequested)
            {
                LogHurried(logger, v1Calls, runs, runStreams);
            }
            else
            {
                LogDrained(logger, drain.TotalSeconds, v1Calls, runs, runStreams);
            }

            await CancelAsync(_stopped);
            await Task.Delay(CloseAfterStop, timeProvider, disposed);
            await CancelAsync(_closing);
        }
        catch (OperationCanceledException) when (disposed.IsCancellationRequested)
        {
            // Everything had ended before the drain did, and the host is gone.
        }
    }

    private async Task CancelAsync(CancellationTokenSource source)
    {
        try
        {
            await source.CancelAsync();
        }
        catch (Exception exception) when (exception is AggregateException or ObjectDisposedException)
        {
            LogEndingFailed(logger, exception);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>What the drain waits for, said as it starts and ends: why a stop takes its time, and what it ends.</summary>
    private (int V1Calls, int Runs, int RunStreams) OpenWork() => (metrics.OpenV1Calls, _runsExecuting(), metrics.OpenRunStreams);

    [LoggerMessage(Level = LogLevel.Information, Message = "Shutting down: open streams and runs have up to {DrainSeconds} s to finish (Gateway:Streaming:ShutdownDrainSeconds); open now: /v1 calls {V1Calls}, runs {Runs}, run event streams {RunStreams}")]
    private static partial void LogDraining(ILogger logger, double drainSeconds, int v1Calls, int runs, int runStreams);

    [LoggerMessage(Level = LogLevel.Information, Message = "Shutting down: the {DrainSeconds} s drain is over; open streams and runs are being ended: /v1 calls {V1Calls}, runs {Runs}, run event streams {RunStreams}")]
    private static partial void LogDrained(ILogger logger, double drainSeconds, int v1Calls, int runs, int runStreams);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Shutting down: a second stop signal cuts the drain short; open streams and runs are being ended: /v1 calls {V1Calls}, runs {Runs}, run event streams {RunStreams}")]
    private static partial void LogHurried(ILogger logger, int v1Calls, int runs, int runStreams);

    [LoggerMessage(Level = LogLevel.Error, Message = "Ending the open streams at shutdown failed")]
    private static partial void LogEndingFailed(ILogger logger, Exception exception);

    public void Dispose()
    {
        // Once: the container disposes this both as a singleton and as the hosted service it also is.
        if (_disposed.IsCancellationRequested)
        {
            return;
        }

        _disposed.Cancel();
        _onStopping.Dispose();
        _stopped.Dispose();
        _closing.Dispose();
        _hurried.Dispose();
        _disposed.Dispose();
    }
}
