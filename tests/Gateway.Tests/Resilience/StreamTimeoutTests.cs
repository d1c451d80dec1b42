using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Resilience;

/// <summary>The three stream clocks (headers and first token, idle, total) with short timeouts.</summary>
public sealed class StreamTimeoutTests : IAsyncLifetime
{
    private FaultBed _bed = null!;
    private FakeUpstream _primary = null!;
    private FakeUpstream _secondary = null!;

    public async Task InitializeAsync()
    {
        _bed = await FaultBed.StartAsync(firstTokenTimeoutSeconds: 1, idleTimeoutSeconds: 1);
        (_primary, _secondary) = (_bed.Primary, _bed.Secondary);
    }

    public async Task DisposeAsync() => await _bed.DisposeAsync();

    private Task<(HttpResponseMessage Response, List<string> Data)> StreamAsync(string model = "up", string message = "one two three") =>
        _bed.StreamAsync(model, message);

    private static void AssertCompleted(List<string> data, string expectedText) => FaultBed.AssertCompleted(data, expectedText);

    [Fact]
    public async Task NoResponseHeadersInTime_IsRetried()
    {
        _primary.Enqueue(new UpstreamScript { HeadersDelay = TimeSpan.FromSeconds(5) });

        var (response, data) = await StreamAsync();

        AssertCompleted(data, "one two three");
        Assert.Equal(2, _primary.Requests.Count);
        Assert.True((await _primary.Requests[0].Closed).Aborted, "the stalled attempt's connection should have been closed");
    }

    [Fact]
    public async Task StallBeforeTheFirstChunk_IsAFirstTokenTimeoutAndRetried()
    {
        _primary.Enqueue(new UpstreamScript { Stall = (0, TimeSpan.FromSeconds(10)) });

        var (response, data) = await StreamAsync();

        AssertCompleted(data, "one two three");
        Assert.Equal(2, _primary.Requests.Count);
        Assert.True((await _primary.Requests[0].Closed.WaitAsync(TimeSpan.FromSeconds(5))).Aborted);
    }

    [Fact]
    public async Task StallMidStream_IsAnIdleTimeoutReportedAsAnErrorEventAndNotRetried()
    {
        _primary.Enqueue(new UpstreamScript { Stall = (2, TimeSpan.FromSeconds(10)) });

        var (response, data) = await StreamAsync();

        var error = FaultBed.AssertEndedWithError(data, "one two");
        Assert.Equal("upstream_timeout", error["code"]!.GetValue<string>());
        Assert.Contains("mid-stream", error["message"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Single(_primary.Requests);
        Assert.Empty(_secondary.Requests);
        Assert.True((await _primary.Requests[0].Closed.WaitAsync(TimeSpan.FromSeconds(5))).Aborted);
    }

    [Fact]
    public async Task SlowButSteadyStream_OutlivesTheIdleTimeout()
    {
        var tokens = Enumerable.Range(0, 8).Select(i => $" w{i}").ToArray();
        _primary.Enqueue(new UpstreamScript { Tokens = tokens, TokenDelay = TimeSpan.FromMilliseconds(400) });

        var (_, data) = await StreamAsync();

        AssertCompleted(data, string.Concat(tokens)); // 3.2 s in all, never 1 s without a chunk
    }

    [Fact]
    public async Task AClientThatPausesReading_IsNoIdleUpstream()
    {
        // 24 MB as fast as the upstream can send it: far more than the sockets buffer, so while the client pauses the
        // gateway's write waits, and the upstream waits on the gateway, healthy. The idle clock (1 s) must not run then.
        var tokens = Enumerable.Range(0, 3000).Select(i => $" {i}{new string('x', 8000)}").ToArray();
        _primary.Enqueue(new UpstreamScript { Tokens = tokens });

        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = Json.ChatRequest("up", "x", stream: true) };
        using var response = await _bed.Gateway.Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        await using var body = await response.Content.ReadAsStreamAsync();
        await body.ReadExactlyAsync(new byte[4096]);
        await Task.Delay(TimeSpan.FromSeconds(3));
        var rest = await new StreamReader(body).ReadToEndAsync();

        Assert.DoesNotContain("\"error\"", rest, StringComparison.Ordinal);
        Assert.EndsWith("data: [DONE]\n\n", rest, StringComparison.Ordinal);
    }
}
