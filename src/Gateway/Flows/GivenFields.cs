using System.Text.Json;

namespace Gateway.Flows;

/// <summary>
/// An optional member sent as <c>null</c> is a member not sent. The OpenAPI document marks optional members nullable,
/// and clients generated from it (NSwag, openapi-generator) write every unset one as <c>null</c>: a flow or run
/// request that matches the schema must not be a 400 for it.
/// </summary>
internal static class GivenFields
{
    /// <summary>The member <paramref name="name"/> when it is there and not <c>null</c>.</summary>
    public static bool TryGetGiven(this JsonElement element, string name, out JsonElement value) =>
        element.TryGetProperty(name, out value) && value.ValueKind != JsonValueKind.Null;

    public static bool IsGiven(this JsonElement element, string name) => element.TryGetGiven(name, out _);
}
