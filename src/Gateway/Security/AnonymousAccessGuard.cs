using Gateway.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

namespace Gateway.Security;

/// <summary>
/// Refuses to run keyless on an address other machines can reach, unless that was asked for. It checks the
/// addresses Kestrel actually bound (configuration, <c>--urls</c> and code all end up there); in the moment
/// before it stops the host, the authentication handler already refuses anonymous callers off loopback.
/// </summary>
internal sealed class AnonymousAccessGuard(ApiKeyStore keys, IServer server) : IHostedLifecycleService
{
    public Task StartedAsync(CancellationToken cancellationToken)
    {
        if (!keys.IsAnonymous || keys.AllowAnonymous)
        {
            return Task.CompletedTask;
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

        return Task.CompletedTask;
    }

    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
