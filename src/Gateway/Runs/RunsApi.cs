using System.Runtime.CompilerServices;
using System.Text.Json;
using Gateway.Flows;
using Gateway.Hosting;
using Gateway.OpenApi;
using Gateway.Security;
using Gateway.Streaming;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Net.Http.Headers;

namespace Gateway.Runs;

/// <summary>Running flows (<c>POST /api/flows/{id}/run</c>, <c>POST /api/runs</c>) and reading run records.</summary>
internal static class RunsApi
{
    public const int DefaultLimit = 20;
    public const int MaxLimit = 100;
    public const string LastEventIdHeader = "Last-Event-ID";

    // The Location of a run accepted in the background or asked to cancel, as the document describes it.
    private const string RunLocation = "The run record: `/api/runs/{runId}`.";

    /// <summary>A saved flow may be run without a body: no inputs, variables or tweaks.</summary>
    private static readonly JsonElement EmptyRequest = JsonDocument.Parse("{}").RootElement.Clone();

    /// <summary>What a run's event stream carries (DESIGN §5), for the OpenAPI document.</summary>
    public static readonly EventStreamEvent[] RunEventTypes =
    [
        new("run.started", typeof(RunStartedEvent), "first, at once, before any provider is called."),
        new("node.started", typeof(NodeStartedEvent), "when a node's inputs are complete and it starts."),
        new("token", typeof(TokenEvent), "each piece of text an llm node streams."),
        new("node.retrying", typeof(NodeRetryingEvent), "before a retry or a fallback to the alias's next deployment."),
        new("node.completed", typeof(NodeCompletedEvent), "when a node has finished; `output` is its whole text."),
        new("node.failed", typeof(NodeFailedEvent), "when a node failed; `run.failed` follows."),
        new("run.completed", typeof(RunRecord), "last, when every node completed; the data is the run record."),
        new("run.failed", typeof(RunRecord), "last, when a node failed (or the run was interrupted); the data is the run record."),
        new("run.cancelled", typeof(RunRecord), "last, when the run was cancelled; the data is the run record."),
    ];

    public static RouteGroupBuilder MapRunsApi(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapPost("/api/flows/{id}/run", RunSavedFlowAsync)
            .WithTags("Runs")
            .WithName("RunFlow")
            .WithSummary("Runs a saved flow: the record as JSON, the events as SSE (Accept: text/event-stream or ?stream=true), or 202 with ?background=true.")
            .Accepts<RunRequest>(isOptional: true, "application/json")
            .ProducesRun();

        var group = endpoints.MapGroup("/api/runs").WithTags("Runs");

        group.MapPost("/", RunInlineFlowAsync)
            .WithName("RunInlineFlow")
            .WithSummary("Runs the flow given in the body's `flow`, in the same modes as POST /api/flows/{id}/run.")
            .Accepts<InlineRunRequest>("application/json")
            .ProducesRun()
            .ProducesProblemWhen(StatusCodes.Status409Conflict, "The inline flow's id is a saved flow's: run that one by its id, or give this one another id (or none).");

        group.MapGet("/", ListRunsAsync).WithName("ListRuns").WithSummary("Lists recent runs, newest first.");
        group.MapGet("/{runId}", GetRunAsync).WithName("GetRun").WithSummary("Returns a run record.")
            .ProducesHeader(RunLauncher.RunIdHeader, "The run's id.", StatusCodes.Status200OK);
        // Re-attaching and cancelling are not counted against a key's RequestsPerMinute: a key at its limit was refused
        // its way back to a run after a dropped connection (so the run was cancelled when the grace ran out, its
        // watcher turned away) and refused the cancel of a run it meant to stop (which then ran on, spending tokens).
        group.MapGet("/{runId}/events", WatchRunAsync)
            .DisableRateLimiting()
            .WithName("WatchRun")
            .WithSummary("Streams a run's events after Last-Event-ID (header) or ?after=N, then follows live ones through the terminal event; 204 when the run has ended and the caller has them all.")
            .ProducesEventStream(RunEventTypes)
            .ProducesHeader(RunLauncher.RunIdHeader, "The run's id.", StatusCodes.Status200OK, StatusCodes.Status204NoContent);
        group.MapPost("/{runId}/cancel", CancelRunAsync)
            .DisableRateLimiting()
            .WithName("CancelRun")
            .WithSummary("Cancels a running run: 202, and the run ends with run.cancelled.")
            .ProducesHeader(HeaderNames.Location, RunLocation, StatusCodes.Status202Accepted)
            .ProducesHeader(RunLauncher.RunIdHeader, "The run's id.", StatusCodes.Status202Accepted, StatusCodes.Status409Conflict)
            .ProducesProblemWhen(StatusCodes.Status409Conflict, "The run has ended, or its end is decided: no node is still pending or running.");
        return group;
    }

    /// <summary>What starting a run may answer besides its result types: the events, <see cref="RunLauncher"/>'s headers, and its 503.</summary>
    private static RouteHandlerBuilder ProducesRun(this RouteHandlerBuilder builder) => builder
        .NamesModels()
        .ProducesEventStream(RunEventTypes)
        .ProducesProblemWhen(
            StatusCodes.Status503ServiceUnavailable,
            $"{GatewayExceptionHandler.StoreUnavailableMessage} Or, in JSON mode only: the gateway stopped before the run finished; the run record shows how it ended once the gateway is back.")
        .ProducesHeader(RunLauncher.RunIdHeader, "The run's id.", StatusCodes.Status200OK, StatusCodes.Status202Accepted)
        .ProducesHeader(
            RunLauncher.RunIdHeader,
            "The id of the run, when one was started: not when the store failed before it could be (reading the saved flow, say).",
            StatusCodes.Status503ServiceUnavailable)
        .ProducesHeader(HeaderNames.Location, RunLocation, StatusCodes.Status202Accepted);

    private static async Task<RunResults> RunSavedFlowAsync(
        string id, HttpContext httpContext, CallerIdentity caller, IFlowStore flows, RunPlanner planner, RunLauncher launcher,
        [TrueOrFalse] string? stream, [TrueOrFalse] string? background)
    {
        if (RunModeQuery.Read(stream, background, out var mode) is { } badQuery)
        {
            return badQuery;
        }

        var body = await JsonBody.ReadAsync(httpContext.Request, EmptyRequest);
        if (body.Problem is { } problem)
        {
            return problem;
        }

        if (await flows.GetAsync(id, httpContext.RequestAborted) is not { Flow: var flow })
        {
            return FlowsApi.FlowNotFound(id);
        }

        var savedFlow = JsonSerializer.SerializeToElement(flow, FlowsJsonContext.Default.Flow);
        if (caller.FirstDisallowedModel(RequestedModels.Of(body.Value, savedFlow)) is { } model)
        {
            return ModelNotAllowed(model);
        }

        var planning = planner.Plan(body.Value, savedFlow);
        return await LaunchAsync(httpContext, caller, planning, launcher, mode);
    }

    private static async Task<RunResults> RunInlineFlowAsync(
        HttpContext httpContext, CallerIdentity caller, IFlowStore flows, RunPlanner planner, RunLauncher launcher,
        [TrueOrFalse] string? stream, [TrueOrFalse] string? background)
    {
        if (RunModeQuery.Read(stream, background, out var mode) is { } badQuery)
        {
            return badQuery;
        }

        var body = await JsonBody.ReadAsync(httpContext.Request);
        if (body.Problem is { } problem)
        {
            return problem;
        }

        if (caller.FirstDisallowedModel(RequestedModels.Of(body.Value, savedFlow: null)) is { } model)
        {
            return ModelNotAllowed(model);
        }

        var planning = planner.Plan(body.Value, savedFlow: null);

        // Runs are listed by their flow's id: an inline flow under a saved flow's id would be listed among that flow's
        // runs, though it ran another graph, and any client could add such runs to what an admin audits for a flow.
        if (planning.Plan?.Graph.Flow.Id is { } flowId && await flows.GetAsync(flowId, httpContext.RequestAborted) is not null)
        {
            return ApiProblems.Conflict(
                $"A saved flow has the id '{flowId}': run it with POST /api/flows/{flowId}/run, or give the inline flow another id (or none).");
        }

        return await LaunchAsync(httpContext, caller, planning, launcher, mode);
    }

    /// <summary>
    /// Starts a valid plan whose models the caller's key may use. (The models were checked as requested, before the
    /// plan; the plan's are checked again, as what will run.)
    /// </summary>
    private static async Task<RunResults> LaunchAsync(
        HttpContext httpContext, CallerIdentity caller, RunPlanning planning, RunLauncher launcher, RunModeQuery mode)
    {
        if (planning.Plan is not { } plan)
        {
            return ApiProblems.Invalid(planning.Errors, "The run request is invalid.");
        }

        if (caller.FirstDisallowedModel(plan.Graph.Flow.Nodes.Select(node => node.Model).OfType<string>()) is { } model)
        {
            return ModelNotAllowed(model);
        }

        return await launcher.LaunchAsync(httpContext, plan, caller.KeyName, mode.Stream, mode.Background);
    }

    public static ProblemHttpResult ModelNotAllowed(string model) => TypedResults.Problem(
        statusCode: StatusCodes.Status403Forbidden,
        title: "Forbidden",
        detail: $"This API key may not use the model '{model}'.",
        extensions: new Dictionary<string, object?> { ["code"] = "model_not_allowed" });

    /// <param name="flowId">Only this flow's runs, when given (empty is not given).</param>
    /// <param name="limit">How many runs to return, from 1 to 100; 20 when not given (or empty).</param>
    /// <param name="runs">The run store.</param>
    /// <param name="cancellationToken">The request's.</param>
    /// <param name="caller">Sees its own runs; an admin sees all.</param>
    /// <param name="request">A HEAD reads only what settles the status: the ids and the first record.</param>
    private static async Task<Results<Ok<IAsyncEnumerable<RunRecord>>, ValidationProblem>> ListRunsAsync(
        string? flowId, [WholeNumber(1, MaxLimit)] string? limit, CallerIdentity caller, IRunStore runs, HttpRequest request,
        CancellationToken cancellationToken)
    {
        // Read as text, so that a bad value gets the same precise answer as an out-of-range one.
        long count = DefaultLimit;
        if (!string.IsNullOrEmpty(limit) && (!QueryValues.TryWholeNumber(limit, out count) || count is < 1 or > MaxLimit))
        {
            return TypedResults.ValidationProblem(
                new Dictionary<string, string[]> { ["limit"] = [$"Must be a whole number from 1 to {MaxLimit}."] }, detail: "The query is invalid.");
        }

        // An empty flowId (a form or a generated client sending every parameter) is no filter: no flow has that id.
        var flow = string.IsNullOrEmpty(flowId) ? null : flowId;
        var ids = await runs.ListIdsAsync(flow, caller.IsAdmin ? null : caller.KeyName, (int)count, cancellationToken);
        // The first record is read before the answer starts, so a store that cannot be read is still a plain 500; one
        // that fails later, mid-page, cuts the answer off (the client sees the connection reset, not a shorter page).
        var first = ids.Count > 0 ? await runs.GetAsync(ids[0], cancellationToken) : null;
        // A HEAD gets no more: the rest of the page, up to 100 records of megabytes each, was read for nothing.
        return TypedResults.Ok(RecordsAsync(first, request.IsHead() ? [] : ids, runs, cancellationToken));
    }

    /// <summary>
    /// The records one at a time, each written out before the next is read: a record holds every node's output, and
    /// a page of 100 large ones, read whole, ran the process out of memory (and kept failing, as they were stored).
    /// A run deleted since its id was listed is left out.
    /// </summary>
    private static async IAsyncEnumerable<RunRecord> RecordsAsync(
        RunRecord? first, IReadOnlyList<string> ids, IRunStore runs, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        if (first is not null)
        {
            yield return first;
        }

        for (var i = 1; i < ids.Count; i++)
        {
            if (await runs.GetAsync(ids[i], cancellationToken) is { } run)
            {
                yield return run;
            }
        }
    }

    // Another key's run is answered as unknown: its existence is not the caller's business. (A code comment, not an
    // XML summary: Swashbuckle would publish that as the operation's summary.)
    // The record is answered from its stored JSON (StoredRunRecord); Ok<RunRecord> is what the document declares, and
    // the answer for a stored text that is not a record as this gateway writes it (which then fails as it did).
    private static async Task<Results<Ok<RunRecord>, RunRecordJsonResult, ProblemHttpResult>> GetRunAsync(
        string runId, CallerIdentity caller, IRunStore runs, HttpContext httpContext)
    {
        if (await runs.GetJsonWithOwnerAsync(runId, httpContext.RequestAborted) is not { } stored || !caller.CanSee(stored.Owner))
        {
            return RunNotFound(runId);
        }

        MarkRun(httpContext, runId);
        var length = StoredRunRecord.ToApiJson(stored.Record);
        return length >= 0
            ? new RunRecordJsonResult(stored.Record.AsMemory(0, length))
            : TypedResults.Ok(JsonSerializer.Deserialize(stored.Record, RunsJsonContext.Default.RunRecord) ?? throw new InvalidDataException("A stored run record is empty."));
    }

    /// <summary>Every answer about a run the caller may see carries its id, as the answers that start one do.</summary>
    private static void MarkRun(HttpContext httpContext, string runId) => httpContext.Response.Headers[RunLauncher.RunIdHeader] = runId;

    public static ProblemHttpResult RunNotFound(string runId) => ApiProblems.NotFound($"No run has the id '{runId}'.");

    /// <summary>
    /// Whether the store knows the run and the caller may see it. The store, not this process's memory: a finished run's
    /// log is kept here after the run left the store (past <c>RunRetentionDays</c>), and was streamed to admins from it.
    /// </summary>
    private static async Task<bool> VisibleAsync(string runId, CallerIdentity caller, IRunStore runs, CancellationToken cancellationToken) =>
        await runs.GetOwnerAsync(runId, cancellationToken) is { } owner && caller.CanSee(owner);

    /// <param name="runId">The run.</param>
    /// <param name="after">The id of the last event the caller has.</param>
    /// <param name="lastEventId">The same, sent by a reconnecting <c>EventSource</c>; it takes precedence over <paramref name="after"/>.</param>
    /// <param name="caller">Only the key that started the run, or an admin, may watch it.</param>
    /// <param name="runs">The run store, for the owner.</param>
    /// <param name="httpContext">The request.</param>
    /// <param name="liveRuns">The runs of this process and the store behind them.</param>
    private static async Task<Results<RunEventStream, HeadAnswer, NoContent, ValidationProblem, ProblemHttpResult>> WatchRunAsync(
        string runId, string? after, [FromHeader(Name = LastEventIdHeader)] string? lastEventId, CallerIdentity caller, IRunStore runs,
        HttpContext httpContext, LiveRuns liveRuns)
    {
        if (!await VisibleAsync(runId, caller, runs, httpContext.RequestAborted))
        {
            return RunNotFound(runId);
        }

        // An empty id is no id, as the SSE spec has it: from the start.
        var (name, value) = !string.IsNullOrEmpty(lastEventId) ? (LastEventIdHeader, lastEventId) : ("after", after);
        var afterId = 0L;
        if (!string.IsNullOrEmpty(value) && !QueryValues.TryPosition(value, out afterId))
        {
            if (await runs.GetOwnerAsync(runId, httpContext.RequestAborted) is null)
            {
                return RunNotFound(runId);
            }

            MarkRun(httpContext, runId); // an answer about a run the caller may see
            return TypedResults.ValidationProblem(
                new Dictionary<string, string[]> { [name] = ["Must be an event id: a whole number, 0 or more."] }, detail: "The request is invalid.");
        }

        // A HEAD is answered as the stream would start, without a watcher: it would follow the run to its end for
        // nothing, and count as its watcher against the disconnect grace.
        var start = await liveRuns.WatchAsync(runId, afterId, attach: !httpContext.Request.IsHead(), httpContext.RequestAborted);
        if (start is WatchStart.Watching or WatchStart.WouldWatch or WatchStart.AllSent or WatchStart.NotSentYet)
        {
            MarkRun(httpContext, runId);
        }

        return start switch
        {
            WatchStart.Watching watching => new RunEventStream(watching.Watcher),
            WatchStart.WouldWatch => new HeadAnswer(SseWriter.StartResponse),
            // 204 is what tells an EventSource to stop reconnecting.
            WatchStart.AllSent => TypedResults.NoContent(),
            WatchStart.NotSentYet => TypedResults.ValidationProblem(
                new Dictionary<string, string[]> { [name] = [$"The run has sent no event with id {value}: ids count up from 1 as events are sent."] },
                detail: "The request is invalid."),
            _ => RunNotFound(runId),
        };
    }

    private static async Task<Results<Accepted, ProblemHttpResult>> CancelRunAsync(
        string runId, CallerIdentity caller, LiveRuns liveRuns, IRunStore runs, HttpContext httpContext)
    {
        var cancellationToken = httpContext.RequestAborted;
        // The owner of a run executing here is known here: its cancel asks nothing of the store, which may be what is
        // failing (with the database down, the cancel was a 5xx while the run's upstream calls went on). LiveRuns
        // cancels such a run without the store too.
        var visible = liveRuns.TryGet(runId, out var live) && live.Owner is { } owner
            ? caller.CanSee(owner)
            : await VisibleAsync(runId, caller, runs, cancellationToken);
        if (!visible)
        {
            return RunNotFound(runId);
        }

        if (await liveRuns.CancelAsync(runId, cancellationToken))
        {
            MarkRun(httpContext, runId);
            return TypedResults.Accepted($"/api/runs/{runId}");
        }

        // Its owner, not its record: whether the run is still there (it may have been pruned since) is all a 409 needs,
        // and an ended run's record can be megabytes.
        if (await runs.GetOwnerAsync(runId, cancellationToken) is null)
        {
            return RunNotFound(runId);
        }

        MarkRun(httpContext, runId);
        return ApiProblems.Conflict($"Run '{runId}' has ended, or its end is decided: no node is still pending or running.");
    }
}
