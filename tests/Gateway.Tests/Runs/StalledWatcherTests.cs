using System.Net;
using Gateway.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.Tests.Runs;

/// <summary>
/// A run's watcher that stops reading, its socket open, is cut off once a write has waited on it for
/// <c>StalledWatcherSeconds</c>. Until 2026-12-06 (later) it was never cut: it held its connection, and for a run read
/// back from the store a copy of every event, for as long as the socket stayed open (40 such watchers of one large
/// run took a gateway to 2.2 GB; under a container's memory limit other callers then got 500s).
/// </summary>
public sealed class StalledWatcherTests
{
    [Fact]
    public async Task AWatcherThatStopsReading_IsCutOff_AndResumesWhereItStopped()
    {
        await using var upstream = await FakeUpstream.StartAsync();
        // ~24 MB of events, more than the connection's buffers hold, so the gateway's write waits on the client: 4 M
        // characters (under a run's model-text limit) of a control character, which JSON writes in six bytes.
        upstream.DefaultScript = new UpstreamScript { Tokens = [.. Enumerable.Range(0, 500).Select(_ => new string('\u0001', 8000))] };
        var settings = GatewayHost.WithUpstream(GatewayHost.SimulatedSettings(), upstream);
        settings["Gateway:Streaming:StalledWatcherSeconds"] = "1";
        var logs = new CapturedLogs();
        await using var gateway = await GatewayHost.StartAsync(settings, services => services.AddSingleton<Microsoft.Extensions.Logging.ILoggerProvider>(logs));
        using var started = await gateway.Client.PostAsync("/api/runs?background=true", Json.Body("""
            {"flow":{"nodes":[{"id":"in","type":"input"},{"id":"say","type":"llm","model":"up","prompt":"in"},
              {"id":"out","type":"output","from":["say"]}]},"input":"hello"}
            """));
        Assert.Equal(HttpStatusCode.Accepted, started.StatusCode);
        var runId = started.Headers.GetValues("X-Run-Id").Single();

        // Reads the headers, then nothing: the buffers fill, and the gateway's write waits. A small receive buffer of
        // its own, which the kernel would otherwise grow to tens of MB on loopback, so that they fill early in the run.
        using var client = new HttpClient(new SocketsHttpHandler { ConnectCallback = SmallReceiveBufferAsync }) { BaseAddress = gateway.Client.BaseAddress };
        using var stalled = await client.SendAsync(
            new HttpRequestMessage(HttpMethod.Get, $"/api/runs/{runId}/events"), HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, stalled.StatusCode);

        using (var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90)))
        {
            while (!logs.Lines.Any(line => line.Message.Contains("stopped reading", StringComparison.Ordinal)))
            {
                await Task.Delay(50, timeout.Token);
            }
        }

        // The connection was cut: what the client reads now ends in a reset, not in the run's terminal event.
        await using (var body = await stalled.Content.ReadAsStreamAsync())
        {
            await Assert.ThrowsAnyAsync<IOException>(() => body.CopyToAsync(Stream.Null));
        }

        // A watcher that reads gets the rest, from where it asks, through the terminal event.
        using var resumed = await RunClient.WatchAsync(gateway.Client, runId, lastEventId: 2);
        var events = await RunClient.ReadAllAsync(resumed);
        Assert.Equal(Enumerable.Range(3, events.Count).Select(id => (long)id), events.Select(e => e.Id));
        Assert.Equal("run.completed", events[^1].Name);
        Assert.Equal(4_000_000, events[^1].Data["outputs"]!["say"]!.GetValue<string>().Length);
    }

    private static async ValueTask<Stream> SmallReceiveBufferAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        var socket = new System.Net.Sockets.Socket(System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp) { ReceiveBufferSize = 64 * 1024 };
        try
        {
            await socket.ConnectAsync(context.DnsEndPoint, cancellationToken);
            return new System.Net.Sockets.NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}
