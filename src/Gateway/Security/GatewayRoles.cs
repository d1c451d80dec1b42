namespace Gateway.Security;

internal static class GatewayRoles
{
    /// <summary>May write flows and see every run.</summary>
    public const string Admin = "admin";

    /// <summary>May read flows, run them, call /v1, and see its own runs.</summary>
    public const string Client = "client";
}
