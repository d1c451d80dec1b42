namespace Gateway.OpenApi;

/// <summary>Endpoint metadata: a header that the endpoint's answers with these statuses carry, for the OpenAPI document.</summary>
internal sealed record ResponseHeaderMetadata(string Name, string Description, IReadOnlyList<int> StatusCodes);
