using System.Reflection;
using Microsoft.OpenApi;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace Gateway.OpenApi;

/// <summary>Gives a parameter marked <see cref="TrueOrFalseAttribute"/> the boolean schema its handler reads it as.</summary>
internal sealed class TrueOrFalseParameterFilter : IParameterFilter
{
    public void Apply(IOpenApiParameter parameter, ParameterFilterContext context)
    {
        if (parameter is OpenApiParameter concrete && context.ParameterInfo?.GetCustomAttribute<TrueOrFalseAttribute>() is not null)
        {
            concrete.Schema = new OpenApiSchema { Type = JsonSchemaType.Boolean };
        }
    }
}
