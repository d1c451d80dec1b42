namespace Gateway.Tests.Infrastructure;

/// <summary>One gateway with the simulated provider and a database of its own, shared by a test class.</summary>
public sealed class SimulatedGateway : IAsyncLifetime
{
    public GatewayHost Host { get; private set; } = null!;

    public HttpClient Client => Host.Client;

    public async Task InitializeAsync() => Host = await GatewayHost.StartAsync(GatewayHost.SimulatedSettings());

    public async Task DisposeAsync() => await Host.DisposeAsync();
}
