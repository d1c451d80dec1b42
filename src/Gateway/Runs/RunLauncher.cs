using Gateway.Streaming;
using Microsoft.Extensions.Options;

namespace Gateway.Runs;

/// <summary>
/// Starts a planned run and answers in the mode the caller asked for: <c>?background=true</c> → 202 at once;
/// <c>Accept: text/event-stream</c> or <c>?stream=true</c> → the events as they happen; otherwise the record
/// once the run has ended. Every answer carries <c>X-Run-Id</c>.
/// </summary>
internal sealed class RunLauncher(FlowEngine engine, LiveRuns liveRuns, IOptions<StreamingOptions> options)
{
    public const string RunIdHeader = "X-Run-Id";

    /// <param name="httpContext">The request.</param>
    /// <param name="plan">A valid plan whose models the caller may use.</param>
    /// <param name="owner">The name of the caller's key: the run is its (and admins').</param>
    /// <param name="stream">Send the events as they happen.</param>
    /// <param name="background">Answer 202 at once; the run goes on without watchers.</param>
    public async Task<RunResults> LaunchAsync(
        HttpContext httpContext, RunPlan plan, string owner, bool stream, bool background)
    {
        var run = engine.Create(plan, owner);
        var log = await liveRuns.StartAsync(run, background, httpContext.RequestAborted);
        httpContext.Response.Headers[RunIdHeader] = run.RunId;

        if (background)
        {
            return TypedResults.Accepted($"/api/runs/{run.RunId}", run.Snapshot());
        }

        // The caller is the run's first watcher: when it goes and nobody else watches, the grace period starts.
        var watcher = log.Attach(afterId: 0, options.Value.Heartbeat);
        if (stream || WantsEventStream(httpContext.Request))
        {
            return new RunEventStream(watcher);
        }

        using (watcher)
        {
            // Null only when the gateway stopped before the run's end could be stored: the run is ended at the next start.
            return await log.Ended.WaitAsync(httpContext.RequestAborted) is { } finished
                ? TypedResults.Ok(finished)
                : TypedResults.Problem(
                    "The gateway stopped before the run finished; its record shows how it ended once the gateway is back.",
                    statusCode: StatusCodes.Status503ServiceUnavailable);
        }
    }

    // q=0 means "not this type" (RFC 9110 §12.4.2): a client that lists the event stream that way wants the record.
    private static bool WantsEventStream(HttpRequest request) =>
        request.GetTypedHeaders().Accept.Any(accept =>
            accept.MediaType.Equals("text/event-stream", StringComparison.OrdinalIgnoreCase) && accept.Quality is not 0);
}
