using Gateway.Runs;
using Gateway.Streaming;
using Gateway.Telemetry;
using Gateway.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Gateway.Tests.Hosting;

/// <summary>
/// The host stops its services in the reverse order of registration, and a graceful stop depends on that order: the
/// live runs drain first, while their leases are still renewed and telemetry still records them.
/// </summary>
public sealed class HostedServiceOrderTests
{
    [Fact]
    public async Task TheLiveRunsStopBeforeTheirLeases_TheDrain_AndTheTelemetryExporters()
    {
        await using var gateway = await GatewayHost.StartAsync(GatewayHost.SimulatedSettings());
        var services = gateway.Services.GetServices<IHostedService>().Select(service => service.GetType()).ToList();

        // Registered earlier = stopped later.
        Assert.True(services.IndexOf(typeof(LiveRuns)) > services.IndexOf(typeof(RunLeases)), "run leases would stop renewing during the drain");
        Assert.True(services.IndexOf(typeof(RunLeases)) > services.IndexOf(typeof(ShutdownDrain)), "the drain would be disposed before the leases stop");
        Assert.True(services.IndexOf(typeof(ShutdownDrain)) > services.IndexOf(typeof(OtlpExport)), "the exporters would stop before the drain's last spans");
        Assert.True(services.IndexOf(typeof(OtlpExport)) >= 0);
    }
}
