using Gateway.Hosting;
using Gateway.Security;
using Gateway.Streaming;
using Microsoft.Extensions.Options;

namespace Gateway.Runs;

/// <summary>
/// Starts a planned run and answers in the mode the caller asked for: <c>?background=true</c> → 202 at once;
/// <c>Accept: text/event-stream</c> or <c>?stream=true</c> → the events as they happen; otherwise the record
/// once the run has ended. Every answer carries <c>X-Run-Id</c>.
/// </summary>
internal sealed class RunLauncher(FlowEngine engine, LiveRuns liveRuns, TokenBudgets budgets, RunsPerKey runsPerKey, IOptions<StreamingOptions> options)
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
        if (await TokensRefusedAsync(plan, owner, httpContext) is { } retryAfter)
        {
            var seconds = httpContext.Response.SetRetryAfter(retryAfter);
            return OverLimit($"Token rate limit reached for this API key: it cannot pay for the run's first model call now. Retry after {seconds} s.");
        }

        if (!runsPerKey.TryEnter(owner))
        {
            httpContext.Response.SetRetryAfter(TimeSpan.FromSeconds(1));
            return OverLimit(
                $"This API key has {runsPerKey.Limit} runs under way, the most it may have at once (Gateway:Limits:MaxRunsPerKey). Retry once one has ended.");
        }

        var run = engine.Create(plan, owner);
        // Before the run is stored, so that a store failing it is logged, and answered, with the run's id.
        httpContext.Items[GatewayExceptionHandler.RunIdItem] = run.RunId;
        RunLog log;
        try
        {
            log = await liveRuns.StartAsync(run, background, httpContext.RequestAborted, ending: () => runsPerKey.Exit(owner));
        }
        catch
        {
            runsPerKey.Exit(owner); // not started, so never ending
            throw;
        }

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

    private static RunResults OverLimit(string detail) => TypedResults.Problem(
        detail,
        statusCode: StatusCodes.Status429TooManyRequests,
        type: ErrorResponses.TypeOf(StatusCodes.Status429TooManyRequests),
        extensions: new Dictionary<string, object?> { ["code"] = RequestRateLimiting.LimitExceededCode });

    /// <summary>
    /// Whether the key's <c>TokensPerMinute</c> refuses the run at the door, as <c>/v1</c> refuses a call: when it cannot
    /// pay now for the smallest completion any of the run's llm nodes may ask for (each node still reserves its own
    /// estimate when it starts). The probe is given back, and back, before the run starts. Null when the run may start.
    /// Its reading of the bucket is what a 429's <see cref="RateLimitHeaders"/> say of the key's tokens.
    /// </summary>
    private async Task<TimeSpan?> TokensRefusedAsync(RunPlan plan, string owner, HttpContext httpContext)
    {
        var allowances = plan.Graph.Flow.Nodes.Where(node => node.Type == Flows.ComponentCatalog.Llm)
            .Select(node => node.MaxTokens ?? TokenEstimate.DefaultCompletionTokens).ToList();
        if (allowances.Count == 0)
        {
            return null;
        }

        var probe = await budgets.ReserveAsync(owner, allowances.Min(), 0, httpContext.RequestAborted);
        await probe.ReleaseAsync();
        RateLimitHeaders.Record(httpContext, probe);
        return probe.IsGranted ? null : probe.RetryAfter;
    }

    // q=0 means "not this type" (RFC 9110 §12.4.2): a client that lists the event stream that way wants the record.
    private static bool WantsEventStream(HttpRequest request) =>
        request.GetTypedHeaders().Accept.Any(accept =>
            accept.MediaType.Equals("text/event-stream", StringComparison.OrdinalIgnoreCase) && accept.Quality is not 0);
}
