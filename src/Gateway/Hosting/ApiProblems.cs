using Microsoft.AspNetCore.Http.HttpResults;

namespace Gateway.Hosting;

/// <summary>The ProblemDetails answers /api endpoints share.</summary>
internal static class ApiProblems
{
    public static ProblemHttpResult BadRequest(string detail) =>
        TypedResults.Problem(detail, statusCode: StatusCodes.Status400BadRequest, title: "Bad Request");

    public static ProblemHttpResult NotFound(string detail) =>
        TypedResults.Problem(detail, statusCode: StatusCodes.Status404NotFound, title: "Not Found");

    public static ProblemHttpResult Conflict(string detail) =>
        TypedResults.Problem(detail, statusCode: StatusCodes.Status409Conflict, title: "Conflict");

    public static ProblemHttpResult PreconditionFailed(string detail) =>
        TypedResults.Problem(detail, statusCode: StatusCodes.Status412PreconditionFailed, title: "Precondition Failed");

    public static ValidationProblem Invalid(Gateway.Flows.ValidationErrors errors, string detail) =>
        TypedResults.ValidationProblem(errors.ToAnswer(), detail: detail);
}
