using Gateway.Hosting;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Gateway.Flows;

/// <summary>What <c>/api/flows/{id}</c> answers about a request's preconditions (<see cref="FlowConditions"/>), and how the OpenAPI document describes them.</summary>
internal static class FlowPreconditionAnswers
{
    public const string TagDescription = "The flow's tag: it changes whenever the flow does. Send it back in If-Match to replace or delete only that version.";
    public const string CurrentTagDescription = "The saved flow's tag now, which did not meet the request's preconditions.";
    public const string Unreadable = "If-Match or If-None-Match is not `*` or a list of entity tags in quotes; or a query parameter was given more than once.";
    public const string NotMet = "The saved flow no longer has a tag If-Match names (it was changed since the caller read it), or has one If-None-Match names.";

    /// <summary>Why a replace or a delete was not done (null when it was); the flow's tag goes in <c>ETag</c> either way, when there is one.</summary>
    public static ProblemHttpResult? Refusal(FlowChange change, FlowConditions conditions, HttpContext context, string id)
    {
        if (change.Tag is { } tag)
        {
            context.Response.Headers.ETag = tag;
        }

        return change.Outcome switch
        {
            FlowChangeOutcome.Done => null,
            FlowChangeOutcome.TagDiffers when !conditions.Matches(change.Tag!) => Changed(id, change.Tag!),
            FlowChangeOutcome.TagDiffers => ApiProblems.PreconditionFailed(
                $"The flow '{id}' has a tag If-None-Match names ({change.Tag}), or If-None-Match is * and the flow exists."),
            _ => FlowsApi.FlowNotFound(id),
        };
    }

    public static ProblemHttpResult Changed(string id, string tag) => ApiProblems.PreconditionFailed(
        $"The flow '{id}' has changed since the version If-Match names: its tag is now {tag}. GET it again and make the change to that version.");

    public static ProblemHttpResult BadHeader(string header) =>
        ApiProblems.BadRequest($"{header} must be * or a list of entity tags in quotes, such as the flow's ETag.");
}
