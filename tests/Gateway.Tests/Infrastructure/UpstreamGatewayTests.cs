namespace Gateway.Tests.Infrastructure;

/// <summary>
/// A test class whose tests each get a gateway of their own on real Kestrel, with the simulated models and the alias
/// <c>up</c> on a <see cref="FakeUpstream"/> of their own (<see cref="GatewayHost.WithUpstream"/>).
/// </summary>
public abstract class UpstreamGatewayTests : IAsyncLifetime
{
    protected FakeUpstream Upstream { get; private set; } = null!;

    protected GatewayHost Host { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Upstream = await FakeUpstream.StartAsync();
        Host = await GatewayHost.StartAsync(GatewayHost.WithUpstream(GatewayHost.SimulatedSettings(), Upstream));
    }

    public async Task DisposeAsync()
    {
        await Host.DisposeAsync();
        await Upstream.DisposeAsync();
    }
}
