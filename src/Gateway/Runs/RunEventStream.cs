using System.IO.Pipelines;
using Gateway.Streaming;
using Gateway.Telemetry;
using Microsoft.Extensions.Options;

namespace Gateway.Runs;

/// <summary>
/// Sends a run's events as SSE to one watcher: a <c>retry:</c> hint, then <c>id</c>, <c>event</c> and one JSON
/// <c>data</c> line per event, from the watcher's cursor through the terminal event, with a <c>: keep-alive</c>
/// comment whenever the stream has been idle for <c>HeartbeatSeconds</c>. A client that goes away only detaches
/// its watcher; the run goes on (see <see cref="RunLog"/> for when it is cancelled). One that stops reading, its socket
/// still open, is cut off once a write has waited on it for <c>StalledWatcherSeconds</c>, and a second more for each
/// 64 KiB the event holds: a slow reader still reading is given the time a large event (a run's record) takes.
/// </summary>
internal sealed class RunEventStream(RunWatcher watcher) : IResult
{
    public async Task ExecuteAsync(HttpContext httpContext)
    {
        using var _ = watcher;
        var metrics = httpContext.RequestServices.GetRequiredService<GatewayMetrics>();
        metrics.RunWatcherAttached();
        metrics.StreamOpened(Surfaces.Runs);
        try
        {
            await SendAsync(httpContext);
        }
        finally
        {
            metrics.StreamClosed(Surfaces.Runs);
            metrics.RunWatcherDetached();
        }
    }

    private async Task SendAsync(HttpContext httpContext)
    {
        var aborted = httpContext.RequestAborted;
        var stallLimit = httpContext.RequestServices.GetRequiredService<IOptions<StreamingOptions>>().Value.StalledWatcher;
        // Armed only while a write waits on the client: most complete at once, into the connection's buffers.
        using var stalled = new CancellationTokenSource(Timeout.InfiniteTimeSpan, httpContext.RequestServices.GetRequiredService<TimeProvider>());
        // A watcher still open as the gateway closes (its run goes on elsewhere, or ended without it) is closed
        // cleanly: an EventSource then resumes, with Last-Event-ID, wherever the load balancer sends it.
        using var open = CancellationTokenSource.CreateLinkedTokenSource(
            aborted, httpContext.RequestServices.GetRequiredService<ShutdownDrain>().Closing, stalled.Token);
        using var sse = new SseWriter(httpContext.Response);
        sse.StartResponse();
        var batch = new List<RunEventEntry>();
        var writing = false;
        var waitedFor = stallLimit; // the last write's allowance, for the log line of a cut
        try
        {
            await sse.WriteRetryAsync(StreamingOptions.RetryMilliseconds, aborted);
            while (true)
            {
                var ended = watcher.Read(batch);
                foreach (var entry in batch)
                {
                    // Closing (or gone) before this write began: the stream ends cleanly here, for the client to resume.
                    // Begun with the token already cancelled, the write failed at once, and the watcher was cut off as
                    // one whose client had stopped reading (a reset, where an event came in the instant the gateway closed).
                    if (open.IsCancellationRequested)
                    {
                        return;
                    }

                    // A write waits only while the client is behind by a full buffer: one still waiting as the gateway
                    // closes is cut off below, or it would hold the shutdown to the host's limit.
                    writing = true;
                    var written = await WithinStallLimit(sse.WriteEventAsync(entry.Id, entry.Name, entry.Data, open.Token), entry.Data.Length);
                    writing = false;
                    if (written.IsCanceled && !aborted.IsCancellationRequested)
                    {
                        httpContext.Abort();
                        return;
                    }

                    if (written.IsCompleted || written.IsCanceled)
                    {
                        return;
                    }
                }

                if (ended)
                {
                    return;
                }

                if (batch.Count == 0 && !open.IsCancellationRequested && watcher.TakeHeartbeat())
                {
                    writing = true;
                    await WithinStallLimit(sse.WriteKeepAliveAsync(open.Token), 0);
                    writing = false;
                }

                await watcher.WaitAsync(open.Token);
            }
        }
        catch (Exception exception) when (exception is OperationCanceledException or IOException)
        {
            // The client went away, or the gateway is closing; the watcher detaches as this returns. A client that
            // was not reading what it was sent would not read a clean end either: it is cut off. (A write cancelled
            // for the stall may have aborted the request already. A stall timer that fired just as its write completed
            // ends the stream at the wait that follows, cleanly: the client resumes.)
            if (writing && stalled.IsCancellationRequested)
            {
                var logger = httpContext.RequestServices.GetRequiredService<ILogger<RunEventStream>>();
                var seconds = Math.Round(waitedFor.TotalSeconds, 1);
                RunsLog.WatcherStalled(logger, watcher.RunId, seconds);
                httpContext.Abort();
            }
            else if (writing && !aborted.IsCancellationRequested)
            {
                httpContext.Abort();
            }
        }

        // A write that completed at once costs no timer; one that waits has StalledWatcherSeconds to complete, and a
        // second more for each 64 KiB of its event.
        async ValueTask<FlushResult> WithinStallLimit(ValueTask<FlushResult> write, int characters)
        {
            if (write.IsCompleted)
            {
                return write.Result;
            }

            waitedFor = stallLimit + TimeSpan.FromSeconds(characters / 65_536.0);
            stalled.CancelAfter(waitedFor);
            var written = await write;
            stalled.CancelAfter(Timeout.InfiniteTimeSpan);
            return written;
        }
    }
}
