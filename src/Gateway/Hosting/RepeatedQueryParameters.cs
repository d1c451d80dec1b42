using Gateway.Flows;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Gateway.Hosting;

/// <summary>
/// An <c>/api</c> query parameter given more than once is a 400 that says so. Each is bound as one text, and ASP.NET
/// Core joins repeated values with a comma: <c>?flowId=a&amp;flowId=a</c> listed the runs of a flow named <c>a,a</c>
/// (none, silently), and <c>?stream=true&amp;stream=true</c> was told it must be true or false.
/// </summary>
internal static class RepeatedQueryParameters
{
    public static TBuilder RefuseRepeatedQueryParameters<TBuilder>(this TBuilder builder)
        where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(OpenApi.RepeatedQueryMetadata.Instance).AddEndpointFilter(static (context, next) =>
            Refusal(context.HttpContext.Request.Query) is { } refusal ? ValueTask.FromResult<object?>(refusal) : next(context));

    private static ValidationProblem? Refusal(IQueryCollection query)
    {
        ValidationErrors? errors = null;
        foreach (var (name, values) in query)
        {
            if (values.Count > 1)
            {
                (errors ??= new ValidationErrors()).Add(name, "Given more than once: give it once.");
            }
        }

        return errors is null ? null : ApiProblems.Invalid(errors, "The query is invalid.");
    }
}
