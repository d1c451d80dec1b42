namespace Gateway.OpenApi;

/// <summary>
/// Endpoint metadata: the request names models, which a key's allowlist may refuse (403). The OpenAPI document
/// declares a 403 only on such operations and on admins' ones.
/// </summary>
internal sealed class ModelAllowlistMetadata
{
    public static readonly ModelAllowlistMetadata Instance = new();

    private ModelAllowlistMetadata()
    {
    }
}
