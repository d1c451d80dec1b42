using Gateway.Security;
using RunResults = Microsoft.AspNetCore.Http.HttpResults.Results<
    Gateway.Runs.RunEventStream,
    Microsoft.AspNetCore.Http.HttpResults.Ok<Gateway.Runs.RunRecord>,
    Microsoft.AspNetCore.Http.HttpResults.Accepted<Gateway.Runs.RunRecord>,
    Microsoft.AspNetCore.Http.HttpResults.ValidationProblem,
    Microsoft.AspNetCore.Http.HttpResults.ProblemHttpResult>;

namespace Gateway.Runs;

/// <summary>
/// Starts a planned run and answers in the mode the caller asked for: <c>?background=true</c> → 202 at once;
/// <c>Accept: text/event-stream</c> or <c>?stream=true</c> → the events as they happen; otherwise the record
/// once the run has ended. Every answer carries <c>X-Run-Id</c>.
/// </summary>
internal sealed class RunLauncher(FlowEngine engine, RunCoordinator coordinator, BackgroundRuns backgroundRuns)
{
    public const string RunIdHeader = "X-Run-Id";

    public async Task<RunResults> LaunchAsync(
        HttpContext httpContext, RunPlan plan, bool stream, bool background)
    {
        var owner = CallerIdentity.From(httpContext.User).KeyName;
        var run = engine.Create(plan, owner);
        await coordinator.RegisterAsync(run, owner, httpContext.RequestAborted);
        httpContext.Response.Headers[RunIdHeader] = run.RunId;

        if (background)
        {
            backgroundRuns.Start(run);
            return TypedResults.Accepted($"/api/runs/{run.RunId}", run.Snapshot());
        }

        // The request's lifetime is the run's: a client that disconnects cancels it.
        var events = coordinator.ExecuteAsync(run, httpContext.RequestAborted);
        if (stream || WantsEventStream(httpContext.Request))
        {
            return new RunEventStream(events);
        }

        RunRecord? finished = null;
        await foreach (var (_, runEvent) in events)
        {
            if (runEvent is RunFinishedEvent end)
            {
                finished = end.Run;
            }
        }

        return TypedResults.Ok(finished);
    }

    private static bool WantsEventStream(HttpRequest request) =>
        request.GetTypedHeaders().Accept.Any(accept => accept.MediaType.Equals("text/event-stream", StringComparison.OrdinalIgnoreCase));
}
