using System.Security.Cryptography;
using System.Text;
using Microsoft.Net.Http.Headers;

namespace Gateway.Flows;

/// <summary>
/// A saved flow's entity tag: a digest of its stored document, so it changes whenever the flow does (and not when the
/// same flow is saved again). Served as <c>ETag</c>; <c>If-Match</c> on <c>PUT</c> and <c>DELETE</c> lets the write go
/// ahead only if the flow is still the one the caller read, so two admins editing one flow cannot overwrite each
/// other's change unseen (without it, the last write wins).
/// </summary>
internal static class FlowTag
{
    /// <summary>The quoted tag of a stored document: 128 bits of its SHA-256, base64url.</summary>
    public static string Of(string document)
    {
        Span<byte> digest = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(Encoding.UTF8.GetBytes(document), digest);
        return $"\"{Convert.ToBase64String(digest[..16]).TrimEnd('=').Replace('+', '-').Replace('/', '_')}\"";
    }

    /// <summary>
    /// Reads an <c>If-Match</c> header: null when absent (the write is unconditional), or the test a saved flow's tag
    /// must pass for it to go ahead: any tag for <c>*</c>, else one of the listed strong tags (a weak tag matches nothing,
    /// as RFC 9110 compares strongly here). False when the header is not a list of entity tags.
    /// </summary>
    public static bool TryReadIfMatch(string? header, out Func<string, bool>? precondition)
    {
        precondition = null;
        if (string.IsNullOrEmpty(header))
        {
            return true;
        }

        if (!EntityTagHeaderValue.TryParseStrictList([header], out var tags) || tags.Count == 0)
        {
            return false;
        }

        if (tags.Any(tag => tag.Equals(EntityTagHeaderValue.Any)))
        {
            precondition = static _ => true;
            return true;
        }

        var strong = tags.Where(tag => !tag.IsWeak).Select(tag => tag.Tag.Value).ToHashSet(StringComparer.Ordinal);
        precondition = current => strong.Contains(current);
        return true;
    }

    /// <summary>
    /// Whether a read with this <c>If-None-Match</c> header gets <c>304</c>: it names <paramref name="current"/> (weakly,
    /// as RFC 9110 compares there), or is <c>*</c>.
    /// </summary>
    public static bool IsNotModified(string? header, string current) =>
        !string.IsNullOrEmpty(header) && EntityTagHeaderValue.TryParseList([header], out var tags)
        && tags.Any(tag => tag.Equals(EntityTagHeaderValue.Any) || tag.Tag.Value == current);
}
