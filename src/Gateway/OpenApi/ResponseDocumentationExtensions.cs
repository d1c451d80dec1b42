using Microsoft.AspNetCore.Mvc;

namespace Gateway.OpenApi;

/// <summary>What an endpoint answers that its result types cannot say, declared on the endpoint for the OpenAPI document.</summary>
internal static class ResponseDocumentationExtensions
{
    /// <summary>Declares that the answers with <paramref name="statusCodes"/> carry the header <paramref name="name"/>.</summary>
    public static RouteHandlerBuilder ProducesHeader(this RouteHandlerBuilder builder, string name, string description, params int[] statusCodes) =>
        builder.WithMetadata(new ResponseHeaderMetadata(name, description, statusCodes));

    /// <summary>As <see cref="ProducesHeader"/>, for a header whose value is a whole number (a count, a wait).</summary>
    public static RouteHandlerBuilder ProducesWholeNumberHeader(this RouteHandlerBuilder builder, string name, string description, params int[] statusCodes) =>
        builder.WithMetadata(new ResponseHeaderMetadata(name, description, statusCodes, WholeNumber: true));

    /// <summary>Declares that the request names models, which a key's allowlist may refuse with a 403.</summary>
    public static RouteHandlerBuilder NamesModels(this RouteHandlerBuilder builder) => builder.WithMetadata(ModelAllowlistMetadata.Instance);

    /// <summary>Declares a ProblemDetails answer and when it is given (<c>ProducesProblem</c> can only name the status).</summary>
    public static RouteHandlerBuilder ProducesProblemWhen(this RouteHandlerBuilder builder, int statusCode, string when) =>
        builder.WithMetadata(new ProducesResponseTypeAttribute(typeof(ProblemDetails), statusCode, "application/problem+json") { Description = when });

    /// <summary>
    /// As <see cref="ProducesProblemWhen"/>, for a 400 that may list its problems under <c>errors</c> (a repeated query
    /// parameter's does), so that a generated client types them.
    /// </summary>
    public static RouteHandlerBuilder ProducesValidationProblemWhen(this RouteHandlerBuilder builder, string when) =>
        builder.WithMetadata(new ProducesResponseTypeAttribute(typeof(HttpValidationProblemDetails), StatusCodes.Status400BadRequest, "application/problem+json") { Description = when });
}
