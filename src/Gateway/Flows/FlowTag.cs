using System.Security.Cryptography;
using System.Text;

namespace Gateway.Flows;

/// <summary>
/// A saved flow's entity tag: a digest of its stored document, so it changes whenever the flow does (and is the same
/// again for the same flow saved again). Served as <c>ETag</c>; sent back in <c>If-Match</c> on <c>PUT</c> and
/// <c>DELETE</c>, it lets the write go ahead only if the flow is still the one the caller read, so two admins editing
/// one flow cannot overwrite each other's change unseen (without it, the last write wins). See <see cref="FlowConditions"/>.
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
}
