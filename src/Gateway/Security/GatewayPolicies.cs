using Microsoft.AspNetCore.Authorization;

namespace Gateway.Security;

/// <summary>The authorization policies endpoints name: <c>group.RequireAuthorization(GatewayPolicies.Admin)</c>.</summary>
internal static class GatewayPolicies
{
    /// <summary>Any valid key (admins included), or the anonymous caller when the gateway serves without keys.</summary>
    public const string Client = "gateway-client";

    /// <summary>A key with the <c>admin</c> role.</summary>
    public const string Admin = "gateway-admin";

    public static AuthorizationBuilder AddGatewayPolicies(this AuthorizationBuilder authorization)
    {
        // No schemes named: the API key scheme is the default, so the authentication middleware has already set the
        // user, and a policy naming it would only authenticate every request a second time.
        var client = new AuthorizationPolicyBuilder().RequireAuthenticatedUser().Build();
        return authorization
            .AddPolicy(Client, client)
            .AddPolicy(Admin, policy => policy
                .RequireAuthenticatedUser()
                .RequireRole(GatewayRoles.Admin))
            // An endpoint that names no policy still needs a valid key: forgetting one must not open a door.
            .SetFallbackPolicy(client);
    }
}
