using System.Security.Claims;
using System.Text.Encodings.Web;
using Gateway.Hosting;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace Gateway.Security;

/// <summary>
/// Authenticates <c>Authorization: Bearer &lt;key&gt;</c> (what the OpenAI SDKs send) or <c>x-api-key</c> against
/// the configured hashes. With no keys configured every caller is the anonymous admin, and any key sent is
/// ignored, as long as the request came from this machine (or anonymous access is allowed anywhere).
/// </summary>
internal sealed class ApiKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder, ApiKeyStore keys)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "ApiKey";
    public const string ApiKeyHeader = "x-api-key";

    private static readonly ClaimsPrincipal Anonymous = CallerIdentity.Principal(CallerIdentity.AnonymousName, GatewayRoles.Admin, [], SchemeName);

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (keys.IsAnonymous)
        {
            return Task.FromResult(keys.AllowAnonymous || FromThisMachine(Context)
                ? Success(Anonymous)
                : AuthenticateResult.Fail("Anonymous access is served to this machine only."));
        }

        var presented = PresentedKey(Request);
        if (presented is null)
        {
            return Task.FromResult(AuthenticateResult.NoResult());
        }

        // The failure message is logged by the base class: it must never quote what was presented.
        return Task.FromResult(keys.Find(presented) is { } key
            ? Success(key.Principal)
            : AuthenticateResult.Fail("The API key is not valid."));
    }

    protected override Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        Response.StatusCode = StatusCodes.Status401Unauthorized;
        Response.Headers.WWWAuthenticate = "Bearer";
        var presented = PresentedKey(Request);
        var message = keys.IsAnonymous
            ? "This gateway has no API keys, so it serves only clients on its own machine, and this request came from another (through a proxy, or to a non-loopback address)."
            : presented is null
                ? "Missing API key: send it as 'Authorization: Bearer <key>' or in the 'x-api-key' header."
                // Two headers of one name are read as one value, joined by a comma: even the right key twice is no key.
                : presented.Contains(',', StringComparison.Ordinal)
                    ? "Send the API key once: this request carries several Authorization or x-api-key values."
                    : "Invalid API key.";
        return Context.WriteErrorAsync(StatusCodes.Status401Unauthorized, message, "invalid_api_key");
    }

    protected override Task HandleForbiddenAsync(AuthenticationProperties properties) =>
        Context.WriteErrorAsync(StatusCodes.Status403Forbidden, "This API key may not do that.", "permission_denied");

    private static AuthenticateResult Success(ClaimsPrincipal principal) =>
        AuthenticateResult.Success(new AuthenticationTicket(principal, SchemeName));

    private static string? PresentedKey(HttpRequest request)
    {
        var authorization = request.Headers.Authorization.ToString();
        if (authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return authorization["Bearer ".Length..].Trim();
        }

        var apiKey = request.Headers[ApiKeyHeader].ToString();
        return apiKey.Length > 0 ? apiKey.Trim() : null;
    }

    /// <summary>
    /// Arrived on a loopback address (no local address means a Unix socket or an in-process server: local by nature),
    /// and not forwarded by a proxy for a client elsewhere: nginx on the same machine would otherwise open a keyless
    /// gateway to everyone who can reach nginx.
    /// </summary>
    private static bool FromThisMachine(HttpContext context) =>
        (context.Connection.LocalIpAddress is not { } local || Loopback.IsLoopback(local)) && ForwardedClients.AllLoopback(context.Request.Headers);
}
