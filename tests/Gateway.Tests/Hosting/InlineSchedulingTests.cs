using Gateway.Tests.Infrastructure;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Gateway.Tests.Hosting;

public sealed class InlineSchedulingTests
{
    [Theory]
    [InlineData(null, true)]
    [InlineData("false", false)]
    public async Task InlineSchedulingSetting_ReachesKestrelsSocketTransport(string? configured, bool expected)
    {
        var settings = GatewayHost.SimulatedSettings();
        if (configured is not null)
        {
            settings["Gateway:Hosting:InlineScheduling"] = configured;
        }

        await using var gateway = await GatewayHost.StartAsync(settings);

        Assert.Equal(expected, gateway.Services.GetRequiredService<IOptions<SocketTransportOptions>>().Value.UnsafePreferInlineScheduling);
    }
}
