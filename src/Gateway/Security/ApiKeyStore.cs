using System.Security.Cryptography;
using Microsoft.Extensions.Options;

namespace Gateway.Security;

/// <summary>One configured key, as the gateway holds it: the hash only, never the key.</summary>
internal sealed class ApiKey(ApiKeyOptions options)
{
    public string Name { get; } = options.Name;

    public int? RequestsPerMinute { get; } = options.RequestsPerMinute;

    public int? TokensPerMinute { get; } = options.TokensPerMinute;

    /// <summary>Whether its requests are counted at all (and get <see cref="RateLimitHeaders"/>).</summary>
    public bool HasLimits { get; } = options.RequestsPerMinute is not null || options.TokensPerMinute is not null;

    /// <summary>The key's <see cref="IRateBuckets"/> names, made once rather than per request.</summary>
    public string RequestsBucket { get; } = $"requests:{options.Name}";

    public string TokensBucket { get; } = $"tokens:{options.Name}";

    internal byte[] Hash { get; } = Convert.FromHexString(options.KeyHash);

    /// <summary>Who a request presenting this key is: built once, shared (read-only) by all its requests.</summary>
    internal System.Security.Claims.ClaimsPrincipal Principal { get; } =
        CallerIdentity.Principal(options.Name, options.Role, options.Models, ApiKeyAuthenticationHandler.SchemeName);
}

/// <summary>The configured keys, looked up by a presented key in constant time, or by name for limits.</summary>
internal sealed class ApiKeyStore
{
    private readonly ApiKey[] _keys;
    private readonly Dictionary<string, ApiKey> _byName;

    public ApiKeyStore(IOptions<AuthOptions> options)
    {
        _keys = [.. options.Value.Keys.Select(key => new ApiKey(key))];
        _byName = _keys.ToDictionary(key => key.Name, StringComparer.Ordinal);
        AllowAnonymous = options.Value.AllowAnonymous;
    }

    /// <summary>No keys configured: the gateway serves anonymously (on loopback, or anywhere when allowed).</summary>
    public bool IsAnonymous => _keys.Length == 0;

    public bool AllowAnonymous { get; }

    public ApiKey? Find(ReadOnlySpan<char> presentedKey)
    {
        var hash = KeyHash.Compute(presentedKey);
        ApiKey? match = null;
        // Every key is compared, each in constant time, so the time taken says nothing about which one matched.
        foreach (var key in _keys)
        {
            if (CryptographicOperations.FixedTimeEquals(hash, key.Hash))
            {
                match = key;
            }
        }

        return match;
    }

    public ApiKey? Get(string name) => _byName.GetValueOrDefault(name);
}
