using System.Globalization;
using Microsoft.OpenApi;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace Gateway.OpenApi;

/// <summary>Adds the headers that <see cref="ResponseHeaderMetadata"/> declares to the responses they are on.</summary>
internal sealed class ResponseHeadersOperationFilter : IOperationFilter
{
    public void Apply(OpenApiOperation operation, OperationFilterContext context)
    {
        foreach (var header in context.ApiDescription.ActionDescriptor.EndpointMetadata.OfType<ResponseHeaderMetadata>())
        {
            foreach (var statusCode in header.StatusCodes)
            {
                var status = statusCode.ToString(CultureInfo.InvariantCulture);
                // A header on a status the endpoint does not declare is a mistake in its metadata: fail where it is made.
                if (operation.Responses?.GetValueOrDefault(status) is not OpenApiResponse response)
                {
                    throw new InvalidOperationException($"{context.ApiDescription.RelativePath} declares {header.Name} on {status}, a status it does not produce.");
                }

                response.Headers ??= new Dictionary<string, IOpenApiHeader>();
                response.Headers[header.Name] = new OpenApiHeader
                {
                    Description = header.Description,
                    Schema = new OpenApiSchema { Type = header.WholeNumber ? JsonSchemaType.Integer : JsonSchemaType.String },
                };
            }
        }
    }
}
