using System.Net.Http.Headers;
using Gateway.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.Tests.Streaming;

/// <summary>
/// Idle streams carry a <c>: keep-alive</c> comment every <c>HeartbeatSeconds</c>, so proxies do not time them
/// out. On a clock that moves only when the test says; the simulated model waits 20 seconds per token on it, and
/// the routing's own timeouts are pushed out of the way.
/// </summary>
public sealed class HeartbeatTests : IAsyncLifetime
{
    private static readonly TimeSpan Heartbeat = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan TokenDelay = TimeSpan.FromSeconds(20);

    private readonly FakeTimeProvider _clock = new();
    private GatewayHost _gateway = null!;

    public async Task InitializeAsync()
    {
        var settings = GatewayHost.SimulatedSettings(tokenDelayMs: (int)TokenDelay.TotalMilliseconds);
        settings["Gateway:Resilience:FirstTokenTimeoutSeconds"] = "3600";
        settings["Gateway:Resilience:IdleTimeoutSeconds"] = "3600";
        settings["Gateway:Streaming:HeartbeatSeconds"] = Heartbeat.TotalSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        _gateway = await GatewayHost.StartAsync(settings, services => services.AddSingleton<TimeProvider>(_clock));
    }

    public async Task DisposeAsync() => await _gateway.DisposeAsync();

    [Fact]
    public async Task RunStream_StartsWithARetryHint_AndSendsAKeepAliveEveryHeartbeatWhileIdle()
    {
        const string body = """
            {"flow":{"nodes":[{"id":"in","type":"input"},{"id":"talk","type":"llm","model":"lorem","prompt":"in"},
              {"id":"out","type":"output","from":["talk"]}]},"input":"go"}
            """;
        var runId = await RunClient.StartInBackgroundAsync(_gateway.Client, body);
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/api/runs/{runId}/events");
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
        using var response = await _gateway.Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));

        Assert.Equal(["retry: 1000", ""], await ReadLinesAsync(reader, 2, timeout.Token));
        // run.started, node.started and node.completed of the input, node.started of the model: then silence.
        var events = await ReadLinesAsync(reader, 4 * 4, timeout.Token);
        Assert.Equal("event: node.started", events[^3]);

        _clock.Advance(Heartbeat);
        Assert.Equal([": keep-alive", ""], await ReadLinesAsync(reader, 2, timeout.Token));
        _clock.Advance(Heartbeat);
        Assert.Equal([": keep-alive", ""], await ReadLinesAsync(reader, 2, timeout.Token));

        (await _gateway.Client.PostAsync($"/api/runs/{runId}/cancel", content: null)).Dispose();
        var end = await ReadLinesAsync(reader, 2, timeout.Token);
        Assert.Equal(["id: 5", "event: run.cancelled"], end);
    }

    [Fact]
    public async Task ChatStream_SendsAKeepAliveEveryHeartbeatWhileIdle_OnceTheFirstChunkHasGoneOut()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = Json.ChatRequest("lorem", "x", stream: true, maxTokens: 3) };
        // The response starts with the first token, which waits on the clock.
        var sending = _gateway.Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        await WaitUntilAsync(() => _clock.TimersDueWithin(TokenDelay) == 1);
        _clock.Advance(TokenDelay);
        using var response = await sending.WaitAsync(TimeSpan.FromSeconds(30));
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var first = await ReadLinesAsync(reader, 2, timeout.Token);
        Assert.StartsWith("data: {", first[0], StringComparison.Ordinal);
        Assert.Contains("\"Lorem\"", first[0], StringComparison.Ordinal);

        // The keep-alive timer, armed once the chunk was written.
        await WaitUntilAsync(() => _clock.TimersDueWithin(Heartbeat) == 1);
        _clock.Advance(Heartbeat);
        Assert.Equal([": keep-alive", ""], await ReadLinesAsync(reader, 2, timeout.Token));
        _clock.Advance(Heartbeat);
        Assert.Equal([": keep-alive", ""], await ReadLinesAsync(reader, 2, timeout.Token));
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (!condition())
        {
            await Task.Delay(10, timeout.Token);
        }
    }

    private static async Task<List<string>> ReadLinesAsync(StreamReader reader, int count, CancellationToken cancellationToken)
    {
        var lines = new List<string>();
        while (lines.Count < count)
        {
            lines.Add(await reader.ReadLineAsync(cancellationToken) ?? throw new EndOfStreamException($"the stream ended after {string.Join(" | ", lines)}"));
        }

        return lines;
    }
}
