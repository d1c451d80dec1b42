namespace Gateway.Security;

/// <summary>Who may call the gateway, bound from <c>Gateway:Auth</c>.</summary>
internal sealed class AuthOptions
{
    public const string Section = "Gateway:Auth";

    /// <summary>With none, the gateway serves anonymously, and only on loopback unless <see cref="AllowAnonymous"/>.</summary>
    public List<ApiKeyOptions> Keys { get; set; } = [];

    /// <summary>Serve without keys on a non-loopback address: only for a network trusted as a whole.</summary>
    public bool AllowAnonymous { get; set; }
}

/// <summary>One caller's key: its SHA-256 hash (never the key itself), its role, models and limits.</summary>
internal sealed class ApiKeyOptions
{
    public string Name { get; set; } = "";

    /// <summary>The 64 hex digits of the SHA-256 of the key's UTF-8 bytes (<c>hash-key</c> prints it).</summary>
    public string KeyHash { get; set; } = "";

    public string Role { get; set; } = GatewayRoles.Client;

    /// <summary>The model aliases the key may use; empty means all of them.</summary>
    public List<string> Models { get; set; } = [];

    /// <summary>Unlimited when absent.</summary>
    public int? RequestsPerMinute { get; set; }

    /// <summary>Prompt plus completion tokens per minute, from the usage models report; unlimited when absent.</summary>
    public int? TokensPerMinute { get; set; }
}
