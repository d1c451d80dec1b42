using System.Net;
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

    /// <summary>
    /// Silence after the finish_reason (no usage, no [DONE], the connection open) ends the answer whole at the idle
    /// timeout, with the usage the gateway counted, and closes the upstream's connection; until 2026-12-06 an error event.
    /// </summary>
    [Fact]
    public async Task AStallAfterTheFinishReason_EndsTheAnswerWhole_AtTheIdleTimeout()
    {
        _primary.Enqueue(new UpstreamScript { AfterFinish = (TimeSpan.FromSeconds(20), Drop: false) });
        var started = System.Diagnostics.Stopwatch.GetTimestamp();

        using var response = await _bed.Gateway.Client.PostAsync(
            "/v1/chat/completions", Json.Body("""{"model":"up","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"one two three"}]}"""));
        var data = await Sse.ReadAllDataAsync(response);

        AssertCompleted(data, "one two three");
        Assert.Contains(data, d => d.Contains("\"finish_reason\":\"stop\"", StringComparison.Ordinal));
        var usage = System.Text.Json.Nodes.JsonNode.Parse(data[^2])!["usage"]!;
        Assert.Equal(3, usage["completion_tokens"]!.GetValue<int>()); // a token a chunk: the upstream's count never came
        Assert.True(System.Diagnostics.Stopwatch.GetElapsedTime(started) < TimeSpan.FromSeconds(15), "the stream waited out the upstream's silence");
        Assert.True((await Assert.Single(_primary.Requests).Closed.WaitAsync(TimeSpan.FromSeconds(5))).Aborted, "the silent connection was left open");
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

    /// <summary>
    /// An error status whose body stalls past the first-token clock is the failure its status says: a 400 is passed on,
    /// neither retried nor fallen back from. Until 2026-12-07 it was a first-token timeout, retried and fallen back from,
    /// and the request the upstream had refused was sent four times (the chaos fuzzer's find).
    /// </summary>
    [Theory]
    [InlineData(400)]
    [InlineData(422)]
    public async Task ARefusalWhoseBodyStalls_IsPassedOnByItsStatus_NotRetriedAsATimeout(int status)
    {
        _primary.DefaultScript = new UpstreamScript { Status = status, ErrorBodyStall = TimeSpan.FromSeconds(30) };

        var (response, _) = await StreamAsync();

        Assert.Equal(status, (int)response.StatusCode);
        var error = (await Json.ReadAsync(response))["error"]!;
        Assert.Equal($"Provider 'p0' answered HTTP {status}.", error["message"]!.GetValue<string>());
        Assert.Equal("1", FaultBed.Attempts(response));
        Assert.Single(_primary.Requests);
        Assert.Empty(_secondary.Requests);
        Assert.True((await _primary.Requests[0].Closed.WaitAsync(TimeSpan.FromSeconds(5))).Aborted, "the stalled body's connection should have been closed");
    }

    /// <summary>An error status whose body is cut off (the connection reset mid-body) is its status too, not a broken connection to retry.</summary>
    [Fact]
    public async Task ARefusalWhoseBodyIsCutOff_IsPassedOnByItsStatus_NotRetriedAsABrokenConnection()
    {
        _primary.DefaultScript = new UpstreamScript { Status = 400, ErrorBodyCut = true };

        var (response, _) = await StreamAsync();

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("Provider 'p0' answered HTTP 400.", (await Json.ReadAsync(response))["error"]!["message"]!.GetValue<string>());
        Assert.Equal("1", FaultBed.Attempts(response));
        Assert.Single(_primary.Requests);
        Assert.Empty(_secondary.Requests);
    }

    [Fact]
    public async Task StallMidStream_IsAnIdleTimeoutReportedAsAnErrorEventAndNotRetried()
    {
        _primary.Enqueue(new UpstreamScript { Stall = (2, TimeSpan.FromSeconds(10)) });

        var (response, data) = await StreamAsync();

        var error = FaultBed.AssertEndedWithError(data, "one two");
        Assert.Equal("upstream_timeout", error["code"]!.GetValue<string>());
        // "No chunk", not "nothing": an upstream's keep-alive comments do not count as the stream going on.
        Assert.EndsWith("sent no chunk for 1 s mid-stream.", error["message"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Single(_primary.Requests);
        Assert.Empty(_secondary.Requests);
        Assert.True((await _primary.Requests[0].Closed.WaitAsync(TimeSpan.FromSeconds(5))).Aborted);
    }

    /// <summary>A flow node's words for the same stall are /v1's: until 2026-12-06 (night) it said "failed".</summary>
    [Fact]
    public async Task StallMidStream_InAFlowNode_IsAnIdleTimeoutInV1sWords()
    {
        _primary.Enqueue(new UpstreamScript { Stall = (2, TimeSpan.FromSeconds(10)) });

        var (response, events) = await RunClient.RunAsync(_bed.Gateway.Client, "/api/runs", """
            {"flow":{"id":"stall","nodes":[{"id":"in","type":"input"},{"id":"ask","type":"llm","model":"up","prompt":"in"},
              {"id":"out","type":"output","from":["ask"]}]},"input":"one two three"}
            """);
        response.Dispose();

        Assert.Equal("one two", RunClient.Tokens(events, "ask"));
        var error = events.Single(e => e.Name == "node.failed").Data["error"]!;
        Assert.Equal("upstream_timeout", error["code"]!.GetValue<string>());
        Assert.Equal("Model 'up' did not answer in time: Provider 'p0' sent no chunk for 1 s mid-stream.", error["message"]!.GetValue<string>());
        Assert.Equal("run.failed", events[^1].Name);
        Assert.True((await Assert.Single(_primary.Requests).Closed.WaitAsync(TimeSpan.FromSeconds(5))).Aborted);
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
    public async Task AClientThatPausesReadingTheFirstToken_IsNoFirstTokenTimeout()
    {
        // 12 MB in the first token, which the gateway writes while the client pauses for longer than was left of the
        // first-token timeout (1 s). Until 2026-12-06 that clock ran on once the first token was in: it ran out during
        // the write, and the healthy stream ended with "sent nothing for 1 s mid-stream" after its first token.
        // The next tokens follow 0.4 s apart: the gateway reads them from the socket, not from what it read before.
        // A bed of its own, whose first-token timeout (2.5 s) leaves a busy machine time to move 12 MB to the gateway
        // (with 1 s, one suite run timed the first token out before it was in), and a pause longer than that.
        await using var bed = await FaultBed.StartAsync(firstTokenTimeoutSeconds: 2.5, idleTimeoutSeconds: 1);
        bed.Primary.Enqueue(new UpstreamScript { Tokens = [" " + new string('x', 12_000_000), " two", " three"], TokenDelay = TimeSpan.FromMilliseconds(400) });

        var rest = await ReadWithAPauseAsync(bed, TimeSpan.FromSeconds(4));

        Assert.DoesNotContain("\"error\"", rest, StringComparison.Ordinal);
        Assert.EndsWith("data: [DONE]\n\n", rest, StringComparison.Ordinal);
        Assert.Contains("\" three\"", rest, StringComparison.Ordinal);
        Assert.Single(bed.Primary.Requests);
    }

    [Fact]
    public async Task AClientThatPausesReading_IsNoIdleUpstream()
    {
        // 24 MB as fast as the upstream can send it: far more than the sockets buffer, so while the client pauses the
        // gateway's write waits, and the upstream waits on the gateway, healthy. The idle clock (1 s) must not run then.
        var tokens = Enumerable.Range(0, 3000).Select(i => $" {i}{new string('x', 8000)}").ToArray();
        _primary.Enqueue(new UpstreamScript { Tokens = tokens });

        var rest = await ReadWithAPauseAsync(_bed, TimeSpan.FromSeconds(3));

        Assert.DoesNotContain("\"error\"", rest, StringComparison.Ordinal);
        Assert.EndsWith("data: [DONE]\n\n", rest, StringComparison.Ordinal);
    }

    /// <summary>Streams from alias <c>up</c>, reading 4 KB, then nothing for <paramref name="pause"/>, then the rest.</summary>
    private static async Task<string> ReadWithAPauseAsync(FaultBed bed, TimeSpan pause)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = Json.ChatRequest("up", "x", stream: true) };
        using var response = await bed.Gateway.Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
        await using var body = await response.Content.ReadAsStreamAsync();
        await body.ReadExactlyAsync(new byte[4096]);
        await Task.Delay(pause);
        return await new StreamReader(body).ReadToEndAsync();
    }
}
