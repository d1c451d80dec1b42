using Gateway.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

namespace Gateway.Security;

/// <summary>
/// Refuses to run keyless on an address other machines can reach, unless that was asked for. It checks the
/// addresses Kestrel actually bound (configuration, <c>--urls</c> and code all end up there), so it runs just after the
/// host has started (<see cref="GatewayHostingExtensions.StartGatewayAsync"/>), outside the host: its refusal is then
/// said once, not also logged by the host. In the moment before it, the authentication handler already refuses
/// anonymous callers off loopback.
/// </summary>
internal sealed class AnonymousAccessGuard(ApiKeyStore keys, IServer server)
{
    public void Check()
    {
        if (!keys.IsAnonymous || keys.AllowAnonymous)
        {
            return;
        }

        var exposed = server.Features.Get<IServerAddressesFeature>()?.Addresses.Where(address => !Loopback.IsLocalOnly(address)).ToList() ?? [];
        if (exposed.Count > 0)
        {
            throw new StartupRefusedException(
                $"The gateway listens on {string.Join(", ", exposed)}, which is not loopback, and no API keys are configured. " +
                $"Configure {AuthOptions.Section}:Keys (the gateway's `hash-key` command mints a key and its hash: " +
                "`dotnet run --project src/Gateway -- hash-key`, or in the container `docker run --rm gateway hash-key`), " +
                $"or set {AuthOptions.Section}:AllowAnonymous to true to serve anyone who can reach it.");
        }
    }
}
