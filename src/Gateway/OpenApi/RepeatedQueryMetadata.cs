namespace Gateway.OpenApi;

/// <summary>
/// Endpoint metadata: the endpoint refuses a query parameter given more than once (<see cref="Hosting.RepeatedQueryParameters"/>)
/// with a 400 before it runs. The OpenAPI document declares that 400 on each such operation that declares none of its own.
/// </summary>
internal sealed class RepeatedQueryMetadata
{
    public const string Description = "A query parameter was given more than once (each is named under `errors`).";

    public static readonly RepeatedQueryMetadata Instance = new();

    private RepeatedQueryMetadata()
    {
    }
}
