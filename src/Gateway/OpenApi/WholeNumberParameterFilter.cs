using System.Globalization;
using System.Reflection;
using Microsoft.OpenApi;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace Gateway.OpenApi;

/// <summary>Gives a parameter marked <see cref="WholeNumberAttribute"/> the integer schema its handler checks it against.</summary>
internal sealed class WholeNumberParameterFilter : IParameterFilter
{
    public void Apply(IOpenApiParameter parameter, ParameterFilterContext context)
    {
        if (parameter is OpenApiParameter concrete && context.ParameterInfo?.GetCustomAttribute<WholeNumberAttribute>() is { } range)
        {
            concrete.Schema = new OpenApiSchema
            {
                Type = JsonSchemaType.Integer,
                Format = "int32",
                Minimum = range.Minimum.ToString(CultureInfo.InvariantCulture),
                Maximum = range.Maximum.ToString(CultureInfo.InvariantCulture),
            };
        }
    }
}
