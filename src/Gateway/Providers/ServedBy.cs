using Microsoft.Extensions.AI;

namespace Gateway.Providers;

/// <summary>
/// What an upstream said of how it served an answer: its <c>service_tier</c> (the tier that ran it, which OpenAI bills
/// by and which may not be the one asked for) and its <c>system_fingerprint</c> (its backend's configuration, which a
/// caller using <c>seed</c> compares between answers). The abstraction has no member for either; it rides as the
/// update's or the response's <c>RawRepresentation</c>. A stream's updates share one instance, made again only when a
/// value changes, so nothing is allocated per token.
/// </summary>
internal sealed record ServedBy(string? ServiceTier, string? SystemFingerprint)
{
    public static ServedBy? Of(ChatResponseUpdate update) => update.RawRepresentation as ServedBy;

    public static ServedBy? Of(ChatResponse response) => response.RawRepresentation as ServedBy;

    /// <summary>Null when the upstream said neither.</summary>
    public static ServedBy? From(string? serviceTier, string? systemFingerprint) =>
        serviceTier is null && systemFingerprint is null ? null : new(serviceTier, systemFingerprint);
}
