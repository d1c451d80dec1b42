using Gateway.Streaming;

namespace Gateway.Runs;

/// <summary>
/// Sends a run's events as SSE while they are logged: <c>id</c>, <c>event</c> and one JSON <c>data</c> line each.
/// A client that goes away stops the writing, not the draining: the run has been cancelled by then and its
/// remaining events, the terminal one included, still reach the log.
/// </summary>
internal sealed class RunEventStream(IAsyncEnumerable<LoggedRunEvent> events) : IResult
{
    public async Task ExecuteAsync(HttpContext httpContext)
    {
        var aborted = httpContext.RequestAborted;
        using var sse = new SseWriter(httpContext.Response);
        sse.StartResponse();
        var writing = true;
        await foreach (var (entry, _) in events)
        {
            if (!writing)
            {
                continue;
            }

            try
            {
                var flushed = await sse.WriteEventAsync(entry.Id, entry.Name, entry.Data, aborted);
                writing = !flushed.IsCompleted && !flushed.IsCanceled;
            }
            catch (Exception exception) when (exception is OperationCanceledException or IOException)
            {
                writing = false;
            }
        }
    }
}
