using System.ClientModel;
using System.ClientModel.Primitives;
using System.Diagnostics;
using System.Net;
using System.Text.Json.Nodes;
using Gateway.Tests.Infrastructure;
using OpenAI;
using OpenAI.Chat;

namespace Gateway.Tests.Hosting;

/// <summary>
/// SIGTERM to a real gateway process with streams open: they get the shutdown drain to finish, then end as failures
/// do, each with its final event, and the process exits cleanly. None is cut off by the exit.
/// </summary>
public sealed class GracefulShutdownTests : IDisposable
{
    private static readonly string LongRun = RunClient.LoremRun(maxTokens: 2000);

    private readonly string _database = GatewayHost.NewDatabasePath();

    private Dictionary<string, string?> Settings()
    {
        var settings = GatewayHost.SimulatedSettings(tokenDelayMs: 50);
        settings[GatewayHost.StorageKey] = GatewayHost.ConnectionString(_database);
        // Long enough for a short stream to finish on a loaded machine; the long ones outlast it by far.
        settings["Gateway:Streaming:ShutdownDrainSeconds"] = "3";
        return settings;
    }

    /// <summary>Tokens with no delay at all (far faster than SQLite stores events), and a drain of 1 s.</summary>
    private Dictionary<string, string?> FloodSettings()
    {
        var settings = GatewayHost.SimulatedSettings(tokenDelayMs: 0);
        settings[GatewayHost.StorageKey] = GatewayHost.ConnectionString(_database);
        settings["Gateway:Streaming:ShutdownDrainSeconds"] = "1";
        return settings;
    }

    /// <summary>A <c>/v1</c> stream of 2,000 tokens at the simulator's pace: far longer than any drain here.</summary>
    private static async Task<HttpResponseMessage> OpenLongChatAsync(GatewayProcess gateway)
    {
        var response = await gateway.Client.SendAsync(
            new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = Json.Body("""{"model":"lorem","max_tokens":2000,"stream":true,"messages":[{"role":"user","content":"go"}]}""") },
            HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return response;
    }

    /// <summary>A long <c>/v1</c> stream and a long run, both under way, each read to its end by the client.</summary>
    private static async Task<LongStreams> OpenLongStreamsAsync(GatewayProcess gateway)
    {
        var chat = await OpenLongChatAsync(gateway);
        var chatReading = Sse.ReadAllDataAsync(chat);
        var run = await gateway.Client.SendAsync(RunClient.Request("/api/runs", LongRun), HttpCompletionOption.ResponseHeadersRead);
        var runReading = RunClient.ReadAllAsync(run);
        await Task.Delay(500);
        return new LongStreams(chat, chatReading, run, runReading);
    }

    private sealed record LongStreams(HttpResponseMessage ChatResponse, Task<List<string>> Chat, HttpResponseMessage RunResponse, Task<List<RunEventItem>> Run)
        : IDisposable
    {
        public void Dispose()
        {
            ChatResponse.Dispose();
            RunResponse.Dispose();
        }
    }

    [Fact]
    public async Task Sigterm_LetsAShortStreamFinish_EndsALongOneWithItsErrorEvent_AndRunsInterrupted_ThenExitsCleanly()
    {
        string backgroundRunId;
        List<string> chat;
        Exception? sdkCut;
        int sdkTokens;
        List<string> shortChat;
        List<RunEventItem> run;
        int exitCode;
        TimeSpan stopping;
        var gateway = await GatewayProcess.StartAsync(Settings());
        await using (gateway)
        {
            using var chatResponse = await OpenLongChatAsync(gateway);
            var chatReading = Sse.ReadAllDataAsync(chatResponse);
            // The OpenAI .NET SDK reads past an error event: its stream is cut after the drain's, so that it raises.
            var sdkTexts = new List<string>();
            var sdkReading = Record.ExceptionAsync(async () =>
            {
                var sdk = new ChatClient(
                    "lorem",
                    new ApiKeyCredential("sk-not-needed"),
                    new OpenAIClientOptions { Endpoint = new Uri(gateway.Client.BaseAddress!, "v1"), RetryPolicy = new ClientRetryPolicy(maxRetries: 0) });
                await foreach (var update in sdk.CompleteChatStreamingAsync([new UserChatMessage("go")], new ChatCompletionOptions { MaxOutputTokenCount = 2000 }))
                {
                    sdkTexts.AddRange(update.ContentUpdate.Select(part => part.Text));
                }
            });
            using var runResponse = await gateway.Client.SendAsync(RunClient.Request("/api/runs", LongRun), HttpCompletionOption.ResponseHeadersRead);
            var runReading = RunClient.ReadAllAsync(runResponse);
            backgroundRunId = await RunClient.StartInBackgroundAsync(gateway.Client, LongRun);
            await Task.Delay(500);

            // A stream with less than the drain left to go: it finishes as if nothing happened.
            using var shortResponse = await gateway.Client.SendAsync(
                new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = Json.ChatRequest("echo", "one two three four five six seven eight", stream: true) },
                HttpCompletionOption.ResponseHeadersRead);
            var shortReading = Sse.ReadAllDataAsync(shortResponse);

            var clock = Stopwatch.StartNew();
            exitCode = await gateway.TerminateAsync(TimeSpan.FromSeconds(20));
            stopping = clock.Elapsed;
            shortChat = await shortReading.WaitAsync(TimeSpan.FromSeconds(5));
            chat = await chatReading.WaitAsync(TimeSpan.FromSeconds(5));
            sdkCut = await sdkReading.WaitAsync(TimeSpan.FromSeconds(5));
            sdkTokens = sdkTexts.Count;
            run = await runReading.WaitAsync(TimeSpan.FromSeconds(5));
            Assert.DoesNotContain("Unhandled exception", gateway.Output, StringComparison.Ordinal);
        }

        Assert.Equal(0, exitCode);
        Assert.InRange(stopping, TimeSpan.FromSeconds(2.9), TimeSpan.FromSeconds(12));

        Assert.Equal("one two three four five six seven eight", Sse.Text(shortChat));
        Assert.Equal("[DONE]", shortChat[^1]);

        Assert.DoesNotContain("[DONE]", chat);
        Assert.True(chat.Count > 2, "the stream carried tokens before the shutdown");
        Assert.Equal("gateway_shutting_down", JsonNode.Parse(chat[^1])!["error"]!["code"]!.GetValue<string>());
        Assert.True(sdkTokens > 2, "the SDK's stream carried tokens before the shutdown");
        Assert.IsAssignableFrom<IOException>(sdkCut);

        Assert.Equal(Enumerable.Range(1, run.Count).Select(id => (long)id), run.Select(e => e.Id));
        Assert.Single(run, e => RunClient.TerminalEvents.Contains(e.Name));
        Assert.Equal("run.failed", run[^1].Name);
        Assert.Equal("interrupted", run[^1].Data["status"]!.GetValue<string>());

        // The background run ended the same way, in the store: a replay after a restart ends with it.
        await using var restarted = await GatewayProcess.StartAsync(Settings());
        using var replay = await RunClient.WatchAsync(restarted.Client, backgroundRunId, lastEventId: 0);
        var log = await RunClient.ReadAllAsync(replay);
        Assert.Equal("run.failed", log[^1].Name);
        Assert.Equal("interrupted", log[^1].Data["status"]!.GetValue<string>());
        Assert.Equal("The gateway shut down before the run finished.", log[^1].Data["error"]!["message"]!.GetValue<string>());
    }

    /// <summary>
    /// A closing terminal's SIGHUP: until 2026-12-07 its default action ended the process at once (exit 129), the stream
    /// cut mid-token with no error event and the run left running until the next start.
    /// </summary>
    [Fact]
    public async Task Sighup_StopsTheGatewayAsSigtermDoes_ThroughTheDrain()
    {
        List<string> chat;
        List<RunEventItem> run;
        int exitCode;
        var gateway = await GatewayProcess.StartAsync(Settings());
        await using (gateway)
        {
            using var streams = await OpenLongStreamsAsync(gateway);

            await gateway.SignalAsync("HUP");
            exitCode = await gateway.WaitForExitAsync(TimeSpan.FromSeconds(20));
            chat = await streams.Chat.WaitAsync(TimeSpan.FromSeconds(5));
            run = await streams.Run.WaitAsync(TimeSpan.FromSeconds(5));
            Assert.Contains("SIGHUP received", gateway.Output, StringComparison.Ordinal);
        }

        Assert.Equal(0, exitCode);
        Assert.True(chat.Count > 2, "the stream carried tokens before the signal");
        Assert.Equal("gateway_shutting_down", JsonNode.Parse(chat[^1])!["error"]!["code"]!.GetValue<string>());
        Assert.Equal(("run.failed", "interrupted"), (run[^1].Name, run[^1].Data["status"]!.GetValue<string>()));
    }

    /// <summary>
    /// Ctrl+C pressed again during the drain: it ends the streams at once, with their final events, and the gateway stops
    /// (until 2026-12-07 the host ignored it, and an operator waited the drain out or killed the process).
    /// </summary>
    [Fact]
    public async Task ASecondStopSignal_CutsTheDrainShort_TheStreamsStillGetTheirFinalEvents()
    {
        var settings = Settings();
        settings["Gateway:Streaming:ShutdownDrainSeconds"] = "60";
        List<string> chat;
        List<RunEventItem> run;
        int exitCode;
        TimeSpan stopping;
        var gateway = await GatewayProcess.StartAsync(settings);
        await using (gateway)
        {
            using var streams = await OpenLongStreamsAsync(gateway);
            // Counted too: a call not streamed (its answer not begun) and a run no client follows.
            var whole = gateway.Client.PostAsync("/v1/chat/completions", Json.Body("""{"model":"lorem","max_tokens":2000,"messages":[{"role":"user","content":"go"}]}"""));
            await RunClient.StartInBackgroundAsync(gateway.Client, LongRun);
            await Task.Delay(300);

            var clock = Stopwatch.StartNew();
            await gateway.SignalAsync("INT");
            await ReplicaPair.WaitUntilAsync(() => gateway.Output.Contains("open streams and runs have up to 60 s", StringComparison.Ordinal));
            await gateway.SignalAsync("INT");
            exitCode = await gateway.WaitForExitAsync(TimeSpan.FromSeconds(30));
            stopping = clock.Elapsed;
            chat = await streams.Chat.WaitAsync(TimeSpan.FromSeconds(5));
            run = await streams.Run.WaitAsync(TimeSpan.FromSeconds(5));
            using var wholeAnswer = await whole.WaitAsync(TimeSpan.FromSeconds(5));
            // Both lines say what the drain waits for and what it ends: an operator learns why a stop takes its time.
            Assert.Contains(
                "have up to 60 s to finish (Gateway:Streaming:ShutdownDrainSeconds); open now: /v1 calls 2, runs 2, run event streams 1",
                gateway.Output, StringComparison.Ordinal);
            Assert.Contains(
                "a second stop signal cuts the drain short; open streams and runs are being ended: /v1 calls 2, runs 2, run event streams 1",
                gateway.Output, StringComparison.Ordinal);
            Assert.Equal(HttpStatusCode.ServiceUnavailable, wholeAnswer.StatusCode);
        }

        Assert.Equal(0, exitCode);
        Assert.InRange(stopping, TimeSpan.Zero, TimeSpan.FromSeconds(20));
        Assert.Equal("gateway_shutting_down", JsonNode.Parse(chat[^1])!["error"]!["code"]!.GetValue<string>());
        Assert.Equal(("run.failed", "interrupted"), (run[^1].Name, run[^1].Data["status"]!.GetValue<string>()));
    }

    [Fact]
    public async Task Sigterm_BeforeAStreamsFirstToken_AnswersIt503GatewayShuttingDown_AndClosesTheUpstreamCall()
    {
        await using var upstream = await FakeUpstream.StartAsync();
        upstream.DefaultScript = new UpstreamScript { Tokens = ["never "], Stall = (0, TimeSpan.FromMinutes(1)) };
        var settings = GatewayHost.WithUpstream(Settings(), upstream);
        settings["Gateway:Resilience:FirstTokenTimeoutSeconds"] = "60";
        var gateway = await GatewayProcess.StartAsync(settings);
        HttpResponseMessage response;
        await using (gateway)
        {
            var sending = gateway.Client.PostAsync("/v1/chat/completions", Json.ChatRequest("up", "hello", stream: true));
            await ReplicaPair.WaitUntilAsync(() => upstream.Requests.Count == 1);

            Assert.Equal(0, await gateway.TerminateAsync(TimeSpan.FromSeconds(20)));
            response = await sending;
        }

        using (response)
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
            Assert.Equal("gateway_shutting_down", (await Json.ReadAsync(response))["error"]!["code"]!.GetValue<string>());
        }

        Assert.True((await upstream.Requests[0].Closed.WaitAsync(TimeSpan.FromSeconds(5))).Aborted);
    }

    /// <summary>
    /// An answer whose finish reason is in, its upstream silent before the usage and [DONE], when the drain runs out:
    /// it ends whole (until 2026-12-06: an error event telling its caller to run the finished call again).
    /// </summary>
    [Fact]
    public async Task Sigterm_WhileAFinishedAnswerWaitsForItsUsage_EndsItWhole()
    {
        await using var upstream = await FakeUpstream.StartAsync();
        upstream.DefaultScript = new UpstreamScript { AfterFinish = (TimeSpan.FromMinutes(1), Drop: false) };
        var settings = GatewayHost.WithUpstream(Settings(), upstream);
        settings["Gateway:Streaming:ShutdownDrainSeconds"] = "1";
        var gateway = await GatewayProcess.StartAsync(settings);
        List<string> chat;
        await using (gateway)
        {
            using var response = await gateway.Client.SendAsync(
                new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
                {
                    Content = Json.Body("""{"model":"up","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"one two three"}]}"""),
                },
                HttpCompletionOption.ResponseHeadersRead);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var reading = Sse.ReadAllDataAsync(response);
            await ReplicaPair.WaitUntilAsync(() => upstream.Requests.Count == 1);
            await Task.Delay(500); // the finish chunk is read; the upstream is silent from here

            Assert.Equal(0, await gateway.TerminateAsync(TimeSpan.FromSeconds(20)));
            chat = await reading.WaitAsync(TimeSpan.FromSeconds(5));
        }

        Gateway.Tests.Resilience.FaultBed.AssertCompleted(chat, "one two three");
        Assert.Contains(chat, d => d.Contains("\"finish_reason\":\"stop\"", StringComparison.Ordinal));
        Assert.Equal(3, JsonNode.Parse(chat[^2])!["usage"]!["completion_tokens"]!.GetValue<int>());
        Assert.True((await upstream.Requests[0].Closed.WaitAsync(TimeSpan.FromSeconds(5))).Aborted);
    }

    [Fact]
    public async Task Sigterm_WithAClientThatStoppedReading_CutsItOffSoonAfterTheDrain_AndClosesTheUpstreamCall()
    {
        await using var upstream = await FakeUpstream.StartAsync();
        // Far more than the sockets buffer: the client below never reads, so the gateway's write to it waits.
        upstream.DefaultScript = new UpstreamScript { Tokens = [.. Enumerable.Range(0, 3000).Select(i => $" {i}{new string('x', 8000)}")] };
        var settings = GatewayHost.WithUpstream(Settings(), upstream);
        settings["Gateway:Streaming:ShutdownDrainSeconds"] = "1";
        var gateway = await GatewayProcess.StartAsync(settings);
        int exitCode;
        TimeSpan stopping;
        await using (gateway)
        {
            using var response = await gateway.Client.SendAsync(
                new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = Json.ChatRequest("up", "hello", stream: true) },
                HttpCompletionOption.ResponseHeadersRead);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            await Task.Delay(1000); // the buffers fill

            var clock = Stopwatch.StartNew();
            exitCode = await gateway.TerminateAsync(TimeSpan.FromSeconds(30));
            stopping = clock.Elapsed;
        }

        Assert.Equal(0, exitCode);
        // The drain (1 s), then the 5 s its error event had to go out. It held the stop to the host's limit before
        // (the drain plus 10 s), and the upstream call open with it.
        Assert.InRange(stopping, TimeSpan.FromSeconds(0.9), TimeSpan.FromSeconds(9));
        Assert.True((await upstream.Requests[0].Closed.WaitAsync(TimeSpan.FromSeconds(5))).Aborted);
    }

    [Fact]
    public async Task Sigterm_WithARunWatcherThatStoppedReading_CutsItOffSoonAfterTheDrain()
    {
        var gateway = await GatewayProcess.StartAsync(FloodSettings());
        int exitCode;
        TimeSpan stopping;
        await using (gateway)
        {
            // Events far faster than a client that never reads takes them: the gateway's write to it waits.
            using var response = await gateway.Client.SendAsync(RunClient.Request("/api/runs", RunClient.LoremRun(maxTokens: 1_000_000)), HttpCompletionOption.ResponseHeadersRead);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            await Task.Delay(5000); // the sockets' buffers fill (several MB on loopback)

            var clock = Stopwatch.StartNew();
            exitCode = await gateway.TerminateAsync(TimeSpan.FromSeconds(30));
            stopping = clock.Elapsed;
        }

        Assert.Equal(0, exitCode);
        // The drain (1 s), then the 5 s to the close. It held the stop to the host's limit before (the drain plus 10 s).
        // Once in a whole suite's run (2026-12-06) it took 11.2 s, and never alone: the log says what the stop waited on.
        Assert.True(stopping >= TimeSpan.FromSeconds(0.9) && stopping <= TimeSpan.FromSeconds(9), $"stopped in {stopping}; the gateway's log:\n{gateway.Output}");
    }

    [Fact]
    public async Task Sigterm_DuringARunWhoseModelOutpacesTheStore_StillEndsItsStreamWithTheTerminalEvent()
    {
        var gateway = await GatewayProcess.StartAsync(FloodSettings());
        List<RunEventItem> run;
        int exitCode;
        await using (gateway)
        {
            using var response = await gateway.Client.SendAsync(RunClient.Request("/api/runs", RunClient.LoremRun(maxTokens: 1_000_000)), HttpCompletionOption.ResponseHeadersRead);
            var reading = RunClient.ReadAllAsync(response);
            await Task.Delay(2000);

            exitCode = await gateway.TerminateAsync(TimeSpan.FromSeconds(30));
            run = await reading.WaitAsync(TimeSpan.FromSeconds(5));
        }

        Assert.Equal(0, exitCode);
        // The events waiting for the store were unbounded: hundreds of thousands at the drain's end, still being stored
        // when the host gave up, so the stream stopped on a token, with no terminal event.
        Assert.Equal(Enumerable.Range(1, run.Count).Select(id => (long)id), run.Select(e => e.Id));
        Assert.Equal("run.failed", run[^1].Name);
        Assert.Equal("interrupted", run[^1].Data["status"]!.GetValue<string>());
    }

    public void Dispose() => GatewayHost.DeleteDatabase(_database);
}
