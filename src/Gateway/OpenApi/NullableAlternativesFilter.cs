using Microsoft.OpenApi;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace Gateway.OpenApi;

/// <summary>
/// Says "or null" in a way OpenAPI 3.0.3 and later count. Since 3.0.3, <c>nullable</c> means something only beside a
/// <c>type</c>; the generator writes it bare beside <c>allOf: [$ref]</c> (a member that refers to a component and may
/// be null, such as a run record's <c>error</c>) and beside a <c>oneOf</c> (a message's <c>content</c>), where strict
/// validators (openapi-core, Schemathesis, AJV) ignore it or refuse the schema, and so refused the gateway's own run
/// records. Such a member becomes <c>oneOf</c> its alternatives and a null alone (<c>{type, nullable: true, enum:
/// [null]}</c>, the form the specification's authors give), which generators read as "or null" as before.
/// </summary>
internal sealed class NullableAlternativesFilter : IDocumentFilter
{
    public void Apply(OpenApiDocument document, DocumentFilterContext context)
    {
        var seen = new HashSet<OpenApiSchema>(ReferenceEqualityComparer.Instance);
        foreach (var schema in document.Components?.Schemas?.Values ?? [])
        {
            Visit(schema, seen);
        }
    }

    private static void Visit(IOpenApiSchema? candidate, HashSet<OpenApiSchema> seen)
    {
        // A reference is visited where its component is.
        if (candidate is not OpenApiSchema schema || !seen.Add(schema))
        {
            return;
        }

        if (schema.Type == JsonSchemaType.Null)
        {
            if (schema.AllOf is [var only] && schema.OneOf is null or { Count: 0 })
            {
                schema.OneOf = [only, NullAlone()];
                schema.AllOf = null;
                schema.Type = null;
            }
            else if (schema.OneOf is { Count: > 0 } alternatives)
            {
                alternatives.Add(NullAlone());
                schema.Type = null;
            }
        }

        foreach (var property in schema.Properties?.Values ?? [])
        {
            Visit(property, seen);
        }

        foreach (var part in (schema.AllOf ?? []).Concat(schema.OneOf ?? []).Concat(schema.AnyOf ?? []))
        {
            Visit(part, seen);
        }

        Visit(schema.Items, seen);
        Visit(schema.AdditionalProperties, seen);
    }

    /// <summary>Only null: a type for <c>nullable</c> to extend, and no value of that type.</summary>
    private static OpenApiSchema NullAlone() => new()
    {
        Type = JsonSchemaType.Object | JsonSchemaType.Null,
        Enum = [null!],
    };
}
