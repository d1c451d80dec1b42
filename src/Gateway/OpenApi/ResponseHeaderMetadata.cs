namespace Gateway.OpenApi;

/// <summary>
/// Endpoint metadata: a header that the endpoint's answers with these statuses carry, for the OpenAPI document;
/// <paramref name="WholeNumber"/> when its value is a count or a wait (declared as an integer, as the other
/// <c>Retry-After</c>s are), text otherwise.
/// </summary>
internal sealed record ResponseHeaderMetadata(string Name, string Description, IReadOnlyList<int> StatusCodes, bool WholeNumber = false);
