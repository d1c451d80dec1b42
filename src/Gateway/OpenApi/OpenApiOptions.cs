namespace Gateway.OpenApi;

/// <summary>Whether the OpenAPI document and Swagger UI are served, bound from <c>Gateway:OpenApi</c>.</summary>
internal sealed class OpenApiOptions
{
    public const string Section = "Gateway:OpenApi";

    public bool Enabled { get; set; } = true;
}
