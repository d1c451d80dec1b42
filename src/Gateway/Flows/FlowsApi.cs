using System.Text.Json;
using Gateway.Hosting;
using Gateway.OpenApi;
using Gateway.Providers;
using Gateway.Security;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Net.Http.Headers;

namespace Gateway.Flows;

/// <summary><c>/api/components</c> and flow CRUD under <c>/api/flows</c>.</summary>
internal static class FlowsApi
{
    public static RouteGroupBuilder MapFlowsApi(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/api/components", ListComponents)
            .WithTags("Flows")
            .WithName("ListComponents")
            .WithSummary("Lists the node types a flow may use, with their parameters as JSON schema.");

        var group = endpoints.MapGroup("/api/flows").WithTags("Flows");

        // Anyone with a key may read and run flows; only admins change them.
        group.MapPost("/", CreateFlowAsync)
            .RequireAuthorization(GatewayPolicies.Admin)
            .WithName("CreateFlow")
            .WithSummary("Validates and saves a flow; its id is taken from the body or generated.")
            .Accepts<Flow>("application/json")
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesHeader(HeaderNames.Location, "The saved flow: `/api/flows/{id}`.", StatusCodes.Status201Created)
            .ProducesHeader(HeaderNames.ETag, FlowPreconditionAnswers.TagDescription, StatusCodes.Status201Created);

        group.MapGet("/", ListFlowsAsync).WithName("ListFlows").WithSummary("Lists the saved flows by id.");
        group.MapGet("/{id}", GetFlowAsync)
            .WithName("GetFlow")
            .WithSummary("Returns a saved flow, with its tag; 304 when If-None-Match names that tag.")
            .Produces(StatusCodes.Status304NotModified)
            .ProducesValidationProblemWhen(FlowPreconditionAnswers.Unreadable)
            .ProducesProblemWhen(StatusCodes.Status412PreconditionFailed, FlowPreconditionAnswers.NotMet)
            .ProducesHeader(HeaderNames.ETag, FlowPreconditionAnswers.TagDescription, StatusCodes.Status200OK, StatusCodes.Status304NotModified)
            .ProducesHeader(HeaderNames.ETag, FlowPreconditionAnswers.CurrentTagDescription, StatusCodes.Status412PreconditionFailed);

        group.MapPut("/{id}", ReplaceFlowAsync)
            .RequireAuthorization(GatewayPolicies.Admin)
            .WithName("ReplaceFlow")
            .WithSummary("Validates a flow and replaces the saved one with that id; with If-Match, only if the saved one still has that tag (412 otherwise).")
            .Accepts<Flow>("application/json")
            .ProducesProblemWhen(StatusCodes.Status412PreconditionFailed, FlowPreconditionAnswers.NotMet)
            .ProducesHeader(HeaderNames.ETag, FlowPreconditionAnswers.TagDescription, StatusCodes.Status200OK)
            .ProducesHeader(HeaderNames.ETag, FlowPreconditionAnswers.CurrentTagDescription, StatusCodes.Status412PreconditionFailed);

        group.MapDelete("/{id}", DeleteFlowAsync)
            .RequireAuthorization(GatewayPolicies.Admin)
            .WithName("DeleteFlow")
            .WithSummary("Deletes a saved flow; with If-Match, only if it still has that tag (412 otherwise).")
            .ProducesValidationProblemWhen(FlowPreconditionAnswers.Unreadable)
            .ProducesProblemWhen(StatusCodes.Status412PreconditionFailed, FlowPreconditionAnswers.NotMet)
            .ProducesHeader(HeaderNames.ETag, FlowPreconditionAnswers.CurrentTagDescription, StatusCodes.Status412PreconditionFailed);
        return group;
    }

    /// <param name="router">The aliases.</param>
    /// <param name="caller">A key restricted to some models is offered those alone, as <c>/v1/models</c> lists them.</param>
    private static Ok<IReadOnlyList<ComponentInfo>> ListComponents(ModelRouter router, CallerIdentity caller)
    {
        string[] aliases = [.. router.Aliases.Where(caller.CanUseModel)];
        return TypedResults.Ok<IReadOnlyList<ComponentInfo>>([.. ComponentCatalog.All.Select(c => ComponentInfo.From(c, aliases))]);
    }

    private static async Task<Results<Created<Flow>, ValidationProblem, ProblemHttpResult>> CreateFlowAsync(
        HttpRequest request, FlowValidator validator, IFlowStore store)
    {
        var body = await JsonBody.ReadAsync(request);
        if (body.Problem is { } problem)
        {
            return problem;
        }

        var validation = validator.Validate(body.Value);
        if (validation.Graph is not { } graph)
        {
            return ApiProblems.Invalid(validation.Errors, "The flow is invalid.");
        }

        var flow = graph.Flow with { Id = graph.Flow.Id ?? FlowIds.NewFlowId() };
        if (await store.TryCreateAsync(flow, request.HttpContext.RequestAborted) is not { } tag)
        {
            return ApiProblems.Conflict($"A flow with the id '{flow.Id}' already exists; PUT /api/flows/{flow.Id} replaces it.");
        }

        request.HttpContext.Response.Headers.ETag = tag;
        return TypedResults.Created($"/api/flows/{flow.Id}", flow);
    }

    private static async Task<Ok<IReadOnlyList<Flow>>> ListFlowsAsync(IFlowStore store, CancellationToken cancellationToken) =>
        TypedResults.Ok(await store.ListAsync(cancellationToken));

    /// <param name="id">The flow's id.</param>
    /// <param name="ifMatch">Tags of the flow (or <c>*</c>): 412 if it has none of them.</param>
    /// <param name="ifNoneMatch">The tag of the version the caller has: 304 if the flow still has it.</param>
    /// <param name="context">The request.</param>
    /// <param name="store">The flow store.</param>
    private static async Task<Results<Ok<Flow>, StatusCodeHttpResult, ProblemHttpResult>> GetFlowAsync(
        string id, [FromHeader(Name = "If-Match")] string? ifMatch, [FromHeader(Name = "If-None-Match")] string? ifNoneMatch, HttpContext context,
        IFlowStore store)
    {
        if (!FlowConditions.TryRead(ifMatch, ifNoneMatch, out var conditions, out var badHeader))
        {
            return FlowPreconditionAnswers.BadHeader(badHeader!);
        }

        if (await store.GetAsync(id, context.RequestAborted) is not { } stored)
        {
            return FlowNotFound(id);
        }

        var tag = stored.Tag;
        context.Response.Headers.ETag = tag;
        return !conditions.Matches(tag) ? FlowPreconditionAnswers.Changed(id, tag)
            : conditions.NoneMatchNames(tag) ? TypedResults.StatusCode(StatusCodes.Status304NotModified)
            : TypedResults.Ok(stored.Flow);
    }

    /// <param name="id">The flow's id.</param>
    /// <param name="ifMatch">The tag of the version the caller read (its <c>ETag</c>), or <c>*</c>: replace only that version.</param>
    /// <param name="ifNoneMatch">Tags of the flow (or <c>*</c>): 412 if it has one of them.</param>
    /// <param name="request">The request.</param>
    /// <param name="validator">Checks the flow.</param>
    /// <param name="store">The flow store.</param>
    private static async Task<Results<Ok<Flow>, ValidationProblem, ProblemHttpResult>> ReplaceFlowAsync(
        string id, [FromHeader(Name = "If-Match")] string? ifMatch, [FromHeader(Name = "If-None-Match")] string? ifNoneMatch, HttpRequest request,
        FlowValidator validator, IFlowStore store)
    {
        if (!FlowConditions.TryRead(ifMatch, ifNoneMatch, out var conditions, out var badHeader))
        {
            return FlowPreconditionAnswers.BadHeader(badHeader!);
        }

        var body = await JsonBody.ReadAsync(request);
        if (body.Problem is { } problem)
        {
            return problem;
        }

        var validation = validator.Validate(body.Value);
        if (body.Value.ValueKind == JsonValueKind.Object && body.Value.TryGetProperty("id", out var bodyId)
            && bodyId.ValueKind == JsonValueKind.String && bodyId.GetString() != id)
        {
            validation.Errors.Add("id", $"Must be the id in the URL ('{id}') or left out.");
        }

        if (validation.Graph is not { } graph || !validation.Errors.IsEmpty)
        {
            return ApiProblems.Invalid(validation.Errors, "The flow is invalid.");
        }

        var flow = graph.Flow with { Id = id };
        var change = await store.ReplaceAsync(flow, conditions.WritePrecondition, request.HttpContext.RequestAborted);
        if (FlowPreconditionAnswers.Refusal(change, conditions, request.HttpContext, id) is { } refusal)
        {
            return refusal;
        }

        return TypedResults.Ok(flow);
    }

    /// <param name="id">The flow's id.</param>
    /// <param name="ifMatch">The tag of the version the caller read (its <c>ETag</c>), or <c>*</c>: delete only that version.</param>
    /// <param name="ifNoneMatch">Tags of the flow (or <c>*</c>): 412 if it has one of them.</param>
    /// <param name="context">The request.</param>
    /// <param name="store">The flow store.</param>
    private static async Task<Results<NoContent, ProblemHttpResult>> DeleteFlowAsync(
        string id, [FromHeader(Name = "If-Match")] string? ifMatch, [FromHeader(Name = "If-None-Match")] string? ifNoneMatch, HttpContext context,
        IFlowStore store)
    {
        if (!FlowConditions.TryRead(ifMatch, ifNoneMatch, out var conditions, out var badHeader))
        {
            return FlowPreconditionAnswers.BadHeader(badHeader!);
        }

        var change = await store.DeleteAsync(id, conditions.WritePrecondition, context.RequestAborted);
        if (FlowPreconditionAnswers.Refusal(change, conditions, context, id) is { } refusal)
        {
            return refusal;
        }

        return TypedResults.NoContent();
    }

    public static ProblemHttpResult FlowNotFound(string id) => ApiProblems.NotFound($"No flow has the id '{id}'.");
}
