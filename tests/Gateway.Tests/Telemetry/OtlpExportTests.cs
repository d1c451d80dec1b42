using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Gateway.Telemetry;
using Gateway.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.Tests.Telemetry;

public sealed class OtlpExportTests
{
    [Fact]
    public async Task WithoutEndpoint_NothingIsExported()
    {
        await using var gateway = await GatewayHost.StartAsync(GatewayHost.SimulatedSettings());

        Assert.False(gateway.Services.GetRequiredService<OtlpExport>().IsExporting);
    }

    /// <summary>A bare TCP listener stands in for the collector: the exporter flushes to it when the host stops.</summary>
    [Fact]
    public async Task WithEndpoint_StartsAndExportsToTheCollectorOnShutdown()
    {
        using var collector = new TcpListener(IPAddress.Loopback, 0);
        collector.Start();
        var settings = GatewayHost.SimulatedSettings();
        settings["Gateway:Telemetry:OtlpEndpoint"] = $"http://127.0.0.1:{((IPEndPoint)collector.LocalEndpoint).Port}";
        // Hangs up at once, so the exporter's flush fails fast instead of waiting for a reply.
        var accepted = Task.Run(async () =>
        {
            using var client = await collector.AcceptTcpClientAsync();
            return true;
        });

        await using (var gateway = await GatewayHost.StartAsync(settings))
        {
            var export = gateway.Services.GetRequiredService<OtlpExport>();
            Assert.True(export.IsExporting);
            Assert.Equal("gateway", export.Resource!.Attributes.Single(attribute => attribute.Key == "service.name").Value);
            using var response = await gateway.Client.PostAsync("/v1/chat/completions", Json.ChatRequest("echo", "hi", stream: false));
            response.EnsureSuccessStatusCode();
        }

        Assert.True(await accepted.WaitAsync(TimeSpan.FromSeconds(20)));
    }

    [Fact]
    public async Task WithEndpoint_RequestSpansNameTheirMethodRouteAndStatus()
    {
        var settings = GatewayHost.SimulatedSettings();
        // Nothing listens there: the spans are read from the process, as the exporter reads them.
        settings["Gateway:Telemetry:OtlpEndpoint"] = $"http://127.0.0.1:{FreePort.Next()}";
        var traceId = ActivityTraceId.CreateRandom().ToHexString();
        var stopped = new ConcurrentQueue<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == "Microsoft.AspNetCore",
            ActivityStopped = stopped.Enqueue,
        };
        ActivitySource.AddActivityListener(listener);

        await using (var gateway = await GatewayHost.StartAsync(settings))
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = Json.ChatRequest("echo", "hi", stream: false) };
            request.Headers.Add("traceparent", $"00-{traceId}-b7ad6b7169203331-01");
            using var response = await gateway.Client.SendAsync(request);
            response.EnsureSuccessStatusCode();
        }

        var span = Assert.Single(stopped, activity => activity.TraceId.ToHexString() == traceId);
        Assert.Equal("POST", span.GetTagItem("http.request.method"));
        Assert.Equal("/v1/chat/completions", span.GetTagItem("http.route"));
        Assert.Equal(200, span.GetTagItem("http.response.status_code"));
    }
}
