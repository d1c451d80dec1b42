using Gateway.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

namespace Gateway.Security;

/// <summary>
/// Refuses to run keyless on an address other machines can reach, unless that was asked for. Before the host starts it
/// checks the addresses the configuration names (<c>--urls</c>, <c>Urls</c>, <c>Kestrel:Endpoints</c>), so that the
/// common case is refused before anything listens or says "started"; just after, it checks the addresses Kestrel
/// actually bound, which code may have added too (<see cref="GatewayHostingExtensions.StartGatewayAsync"/>). Either
/// refusal is said once, outside the host. In the moment between, the authentication handler already refuses anonymous
/// callers off loopback.
/// </summary>
internal sealed class AnonymousAccessGuard(ApiKeyStore keys, IServer server, IConfiguration configuration)
{
    /// <summary>Before the host starts: the addresses the configuration names.</summary>
    public void CheckConfigured()
    {
        // Checked before this (ListenAddresses.Check): every one is an address Kestrel can read.
        var urls = ListenAddresses.Configured(configuration);
        var endpoints = configuration.GetSection("Kestrel:Endpoints").GetChildren().Select(endpoint => endpoint["Url"]).OfType<string>();
        Refuse([.. urls, .. endpoints]);
    }

    /// <summary>After the host started: the addresses Kestrel bound.</summary>
    public void Check() => Refuse([.. server.Features.Get<IServerAddressesFeature>()?.Addresses ?? []]);

    private void Refuse(IReadOnlyList<string> addresses)
    {
        if (!keys.IsAnonymous || keys.AllowAnonymous)
        {
            return;
        }

        var exposed = addresses.Where(address => !Loopback.IsLocalOnly(address)).ToList();
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
