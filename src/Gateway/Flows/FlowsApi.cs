using System.Text.Json;
using Gateway.Hosting;
using Gateway.OpenApi;
using Gateway.Providers;
using Gateway.Security;
using Microsoft.AspNetCore.Http.HttpResults;
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
            .ProducesHeader(HeaderNames.Location, "The saved flow: `/api/flows/{id}`.", StatusCodes.Status201Created);

        group.MapGet("/", ListFlowsAsync).WithName("ListFlows").WithSummary("Lists the saved flows by id.");
        group.MapGet("/{id}", GetFlowAsync).WithName("GetFlow").WithSummary("Returns a saved flow.");

        group.MapPut("/{id}", ReplaceFlowAsync)
            .RequireAuthorization(GatewayPolicies.Admin)
            .WithName("ReplaceFlow")
            .WithSummary("Validates a flow and replaces the saved one with that id.")
            .Accepts<Flow>("application/json");

        group.MapDelete("/{id}", DeleteFlowAsync)
            .RequireAuthorization(GatewayPolicies.Admin)
            .WithName("DeleteFlow")
            .WithSummary("Deletes a saved flow.");
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
        if (!await store.TryCreateAsync(flow, request.HttpContext.RequestAborted))
        {
            return ApiProblems.Conflict($"A flow with the id '{flow.Id}' already exists; PUT /api/flows/{flow.Id} replaces it.");
        }

        return TypedResults.Created($"/api/flows/{flow.Id}", flow);
    }

    private static async Task<Ok<IReadOnlyList<Flow>>> ListFlowsAsync(IFlowStore store, CancellationToken cancellationToken) =>
        TypedResults.Ok(await store.ListAsync(cancellationToken));

    private static async Task<Results<Ok<Flow>, ProblemHttpResult>> GetFlowAsync(string id, IFlowStore store, CancellationToken cancellationToken) =>
        await store.GetAsync(id, cancellationToken) is { } flow ? TypedResults.Ok(flow) : FlowNotFound(id);

    private static async Task<Results<Ok<Flow>, ValidationProblem, ProblemHttpResult>> ReplaceFlowAsync(
        string id, HttpRequest request, FlowValidator validator, IFlowStore store)
    {
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
        return await store.TryReplaceAsync(flow, request.HttpContext.RequestAborted) ? TypedResults.Ok(flow) : FlowNotFound(id);
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> DeleteFlowAsync(string id, IFlowStore store, CancellationToken cancellationToken) =>
        await store.DeleteAsync(id, cancellationToken) ? TypedResults.NoContent() : FlowNotFound(id);

    public static ProblemHttpResult FlowNotFound(string id) => ApiProblems.NotFound($"No flow has the id '{id}'.");
}
