using System.Security.Claims;

namespace Gateway.Security;

/// <summary>
/// Who is calling, as the API key handler established it: the key's name (what a run stores as its owner), its
/// role and the models it may use. Endpoints take it as a parameter; the engine gets the name and the checks.
/// </summary>
internal sealed class CallerIdentity
{
    /// <summary>The caller's name when the gateway serves without keys; that caller is an admin.</summary>
    public const string AnonymousName = "anonymous";

    private const string ModelClaim = "gateway:model";

    private readonly HashSet<string>? _models;

    private CallerIdentity(string keyName, string role, HashSet<string>? models)
    {
        KeyName = keyName;
        Role = role;
        _models = models;
    }

    public string KeyName { get; }

    public string Role { get; }

    public bool IsAdmin => Role == GatewayRoles.Admin;

    public bool IsAnonymous => KeyName == AnonymousName;

    public bool CanUseModel(string alias) => _models is null || _models.Contains(alias);

    /// <summary>Whether the key names the models it may use, rather than all of them.</summary>
    public bool IsModelRestricted => _models is not null;

    /// <summary>The first alias the caller may not use (e.g. among a flow's llm nodes), or null when all are allowed.</summary>
    public string? FirstDisallowedModel(IEnumerable<string> aliases) => aliases.FirstOrDefault(alias => !CanUseModel(alias));

    /// <summary>Whether the caller may see (read, watch, cancel) a run whose owner is <paramref name="ownerKeyName"/>.</summary>
    public bool CanSee(string? ownerKeyName) => IsAdmin || string.Equals(ownerKeyName, KeyName, StringComparison.Ordinal);

    /// <summary>Lets minimal API handlers take a <see cref="CallerIdentity"/> parameter.</summary>
    public static ValueTask<CallerIdentity?> BindAsync(HttpContext context) => ValueTask.FromResult<CallerIdentity?>(From(context.User));

    public static CallerIdentity From(ClaimsPrincipal user) => user is CallerPrincipal principal ? principal.Caller : FromClaims(user);

    private static CallerIdentity FromClaims(ClaimsPrincipal user)
    {
        if (user.Identity is not { IsAuthenticated: true, Name: { } name })
        {
            // Every endpoint requires a policy (there is a fallback one), so reaching here is a wiring mistake.
            throw new InvalidOperationException("The caller is not authenticated: the endpoint must require a GatewayPolicies policy.");
        }

        var models = user.FindAll(ModelClaim).Select(claim => claim.Value).ToHashSet(Providers.ModelRouter.AliasComparer);
        return new CallerIdentity(name, user.FindFirst(ClaimTypes.Role)?.Value ?? GatewayRoles.Client, models.Count == 0 ? null : models);
    }

    internal static ClaimsPrincipal Principal(string keyName, string role, IEnumerable<string> models, string authenticationType)
    {
        var claims = new List<Claim> { new(ClaimTypes.Name, keyName), new(ClaimTypes.Role, role) };
        claims.AddRange(models.Select(model => new Claim(ModelClaim, model)));
        return new CallerPrincipal(new ClaimsIdentity(claims, authenticationType));
    }

    /// <summary>
    /// The principal the gateway builds, once per key and shared by that key's requests: it reads its caller from its
    /// claims once, so no request pays for the claim lookups again. Nothing may add to it after it is built.
    /// </summary>
    private sealed class CallerPrincipal : ClaimsPrincipal
    {
        public CallerPrincipal(ClaimsIdentity identity)
            : base(identity)
        {
            Caller = FromClaims(this);
        }

        public CallerIdentity Caller { get; }
    }
}
