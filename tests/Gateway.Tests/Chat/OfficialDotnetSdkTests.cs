using System.ClientModel;
using System.ClientModel.Primitives;
using Gateway.Tests.Infrastructure;
using OpenAI;
using OpenAI.Chat;
using OpenAI.Models;

namespace Gateway.Tests.Chat;

/// <summary>
/// The official OpenAI .NET SDK (the <c>OpenAI</c> package) pointed at the gateway, as a C# application author would:
/// its chat client, streamed and not, its function calling, its model client and the errors it raises. The npm SDK
/// has its own tests (tests/clients).
/// </summary>
public sealed class OfficialDotnetSdkTests : IAsyncLifetime
{
    private FakeUpstream _upstream = null!;
    private GatewayHost _gateway = null!;

    public async Task InitializeAsync()
    {
        _upstream = await FakeUpstream.StartAsync();
        _gateway = await GatewayHost.StartAsync(GatewayHost.WithUpstream(GatewayHost.SimulatedSettings(), _upstream));
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _upstream.DisposeAsync();
    }

    /// <summary>As the SDK's users configure it, but for retries: a test of the gateway counts its own, not the SDK's.</summary>
    private OpenAIClientOptions Options() => new()
    {
        Endpoint = new Uri(_gateway.BaseAddress, "v1"),
        RetryPolicy = new ClientRetryPolicy(maxRetries: 0),
    };

    /// <summary>The SDK always sends a key; an anonymous loopback gateway ignores it.</summary>
    private ChatClient Chat(string model) => new(model, new ApiKeyCredential("sk-not-needed"), Options());

    [Fact]
    public async Task CompleteChat_ReturnsTheAnswerWithItsFinishReasonAndUsage()
    {
        ChatCompletion completion = await Chat("echo").CompleteChatAsync([new UserChatMessage("Answer me, naïve café 🙂")]);

        Assert.Equal("Answer me, naïve café 🙂", Assert.Single(completion.Content).Text);
        Assert.Equal(ChatFinishReason.Stop, completion.FinishReason);
        Assert.Equal(ChatMessageRole.Assistant, completion.Role);
        Assert.StartsWith("chatcmpl-", completion.Id, StringComparison.Ordinal);
        Assert.Equal("echo", completion.Model);
        Assert.Equal((5, 5, 10), (completion.Usage.InputTokenCount, completion.Usage.OutputTokenCount, completion.Usage.TotalTokenCount));
    }

    /// <summary>The SDK's image parts, a link and bytes it writes as a data URL, reach a vision model (until 2026-12-07 a 400).</summary>
    [Fact]
    public async Task CompleteChat_WithTheSdksImageParts_SendsThemOnAsItWroteThem()
    {
        var message = new UserChatMessage(
            ChatMessageContentPart.CreateTextPart("What is it?"),
            ChatMessageContentPart.CreateImagePart(new Uri("https://example.com/a.png"), ChatImageDetailLevel.Low),
            ChatMessageContentPart.CreateImagePart(BinaryData.FromBytes([1, 2, 3]), "image/png"));

        ChatCompletion completion = await Chat("up").CompleteChatAsync([message]);

        Assert.Equal("What is it?", Assert.Single(completion.Content).Text);
        Assert.Equal(
            """[{"type":"text","text":"What is it?"},{"type":"image_url","image_url":{"url":"https://example.com/a.png","detail":"low"}},{"type":"image_url","image_url":{"url":"data:image/png;base64,AQID"}}]""",
            Assert.Single(_upstream.Requests).Json["messages"]![0]!["content"]!.ToJsonString());
    }

    [Fact]
    public async Task CompleteChatStreaming_YieldsTheAnswerTokenByToken_ThenTheFinishReasonAndUsage()
    {
        var texts = new List<string>();
        var finishReasons = new List<ChatFinishReason>();
        ChatTokenUsage? usage = null;
        await foreach (var update in Chat("echo").CompleteChatStreamingAsync([new UserChatMessage("Stream me, word by word")]))
        {
            texts.AddRange(update.ContentUpdate.Select(part => part.Text));
            if (update.FinishReason is { } finishReason)
            {
                finishReasons.Add(finishReason);
            }

            usage = update.Usage ?? usage;
        }

        Assert.Equal(["Stream", " me,", " word", " by", " word"], texts);
        Assert.Equal([ChatFinishReason.Stop], finishReasons);
        Assert.Equal((5, 5, 10), (usage!.InputTokenCount, usage.OutputTokenCount, usage.TotalTokenCount));
    }

    [Fact]
    public async Task AnUnknownModel_RaisesA404_WithTheGatewaysMessage_StreamedOrNot()
    {
        var chat = Chat("no-such-model");

        var unstreamed = await Assert.ThrowsAsync<ClientResultException>(() => chat.CompleteChatAsync([new UserChatMessage("hi")]));
        var streamed = await Assert.ThrowsAsync<ClientResultException>(async () =>
        {
            await foreach (var _ in chat.CompleteChatStreamingAsync([new UserChatMessage("hi")]))
            {
            }
        });

        Assert.All([unstreamed, streamed], exception =>
        {
            Assert.Equal(404, exception.Status);
            Assert.Contains("model_not_found", exception.Message, StringComparison.Ordinal);
            Assert.Contains("no-such-model", exception.Message, StringComparison.Ordinal);
        });
    }

    /// <summary>
    /// The SDK reads an error event as an empty update and ends its <c>await foreach</c> as if the answer were whole
    /// (it looks for no <c>error</c> member). Cut after the event, the stream's read fails instead: the tokens that
    /// came, then an exception, not a shorter answer taken for the whole one.
    /// </summary>
    [Fact]
    public async Task AnUpstreamThatDiesMidStream_EndsTheSdksStreamWithAnException_AfterTheTokensThatCame()
    {
        // The pause lets the tokens reach the gateway before the reset, as they would from a real server.
        _upstream.Enqueue(new UpstreamScript { Tokens = ["one", " two", " three"], DropAfterTokens = 2, TokenDelay = TimeSpan.FromMilliseconds(30) });
        var texts = new List<string>();
        var finishReasons = new List<ChatFinishReason>();

        var exception = await Record.ExceptionAsync(async () =>
        {
            await foreach (var update in Chat("up").CompleteChatStreamingAsync([new UserChatMessage("count")]))
            {
                texts.AddRange(update.ContentUpdate.Select(part => part.Text));
                finishReasons.AddRange(update.FinishReason is { } finishReason ? [finishReason] : []);
            }
        });

        Assert.Equal(["one", " two"], texts);
        Assert.Empty(finishReasons);
        Assert.IsAssignableFrom<IOException>(exception);
    }

    /// <summary>Behind nginx (deploy/nginx.conf) too: nginx, finding the gateway's response cut short, cuts its own.</summary>
    [Fact]
    public async Task AnUpstreamThatDiesMidStream_EndsTheSdksStreamWithAnException_BehindNginxToo()
    {
        await using var nginx = await NginxProxy.StartAsync(port => NginxProxy.DeployConfig(_gateway.BaseAddress, port));
        _upstream.Enqueue(new UpstreamScript { Tokens = ["one", " two", " three"], DropAfterTokens = 2, TokenDelay = TimeSpan.FromMilliseconds(30) });
        var chat = new ChatClient(
            "up", new ApiKeyCredential("sk-not-needed"), new OpenAIClientOptions { Endpoint = new Uri(nginx.BaseAddress, "v1"), RetryPolicy = new ClientRetryPolicy(0) });
        var texts = new List<string>();

        var exception = await Record.ExceptionAsync(async () =>
        {
            await foreach (var update in chat.CompleteChatStreamingAsync([new UserChatMessage("count")]))
            {
                texts.AddRange(update.ContentUpdate.Select(part => part.Text));
            }
        });

        Assert.Equal(["one", " two"], texts);
        Assert.IsAssignableFrom<IOException>(exception);
    }

    /// <summary>
    /// The cut loses nothing that was written: a client with the SDK's User-Agent that reads a long answer late (a small
    /// receive window, so that Kestrel still holds the answer's end when the upstream fails) reads every token the
    /// gateway got and the error event, and only then the cut. An abort of the connection dropped what Kestrel held.
    /// </summary>
    [Fact]
    public async Task ACutStream_DeliversEverythingWritten_ToAClientBehindInItsReading()
    {
        // ~40 KB of chunks: less than Kestrel holds before it waits for the client, so the gateway writes them all and
        // then the error event while the client has read almost none.
        string[] tokens = [.. Enumerable.Range(0, 300).Select(i => $" t{i}")];
        _upstream.Enqueue(new UpstreamScript { Tokens = tokens, DropAfterTokens = tokens.Length, TokenDelay = TimeSpan.FromMilliseconds(1) });
        using var handler = new SocketsHttpHandler
        {
            ConnectCallback = async (context, cancellationToken) =>
            {
                var socket = new System.Net.Sockets.Socket(System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp) { ReceiveBufferSize = 4096 };
                await socket.ConnectAsync(context.DnsEndPoint, cancellationToken);
                return new System.Net.Sockets.NetworkStream(socket, ownsSocket: true);
            },
        };
        using var client = new HttpClient(handler) { BaseAddress = _gateway.BaseAddress };
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = Json.ChatRequest("up", "count", stream: true) };
        request.Headers.UserAgent.ParseAdd("OpenAI/2.15.0 (.NET 10.0.12; Debian GNU/Linux 12 (bookworm))");

        using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        await _upstream.Requests.Single().Closed.WaitAsync(TimeSpan.FromSeconds(20));
        await Task.Delay(TimeSpan.FromSeconds(1));
        var data = new List<string>();
        var cut = await Record.ExceptionAsync(async () =>
        {
            await foreach (var item in System.Net.ServerSentEvents.SseParser.Create(await response.Content.ReadAsStreamAsync()).EnumerateAsync())
            {
                data.Add(item.Data);
            }
        });

        Assert.IsAssignableFrom<IOException>(cut);
        Assert.StartsWith("""{"error":""", data[^1], StringComparison.Ordinal);
        Assert.Equal("upstream_error", System.Text.Json.Nodes.JsonNode.Parse(data[^1])!["error"]!["code"]!.GetValue<string>());
        var text = Sse.Text(data.SkipLast(1));
        // The upstream's reset may overtake its last token or so on the way to the gateway, never the ones before.
        Assert.StartsWith(string.Concat(tokens.Take(290)), text, StringComparison.Ordinal);
    }

    /// <summary>The cut is for that SDK alone: any other client gets the error event last and the stream closed whole.</summary>
    [Fact]
    public async Task AnUpstreamThatDiesMidStream_ClosesAnotherClientsStreamWhole_WithTheErrorEventLast()
    {
        _upstream.Enqueue(new UpstreamScript { Tokens = ["one", " two", " three"], DropAfterTokens = 2, TokenDelay = TimeSpan.FromMilliseconds(30) });
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = Json.ChatRequest("up", "count", stream: true) };
        request.Headers.UserAgent.ParseAdd("OpenAI/JS 6.49.0");

        using var response = await _gateway.Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        var data = await Sse.ReadAllDataAsync(response);

        Assert.Equal("one two", Sse.Text(data.SkipLast(1)));
        Assert.Equal("upstream_error", System.Text.Json.Nodes.JsonNode.Parse(data[^1])!["error"]!["code"]!.GetValue<string>());
    }

    [Fact]
    public async Task AModelToldToCallAFunction_StreamsTheCall_WhichTheSdkAssembles()
    {
        var options = new ChatCompletionOptions { ToolChoice = ChatToolChoice.CreateRequiredChoice() };
        options.Tools.Add(ChatTool.CreateFunctionTool("get_time", "The time now.", BinaryData.FromString("""{"type":"object","properties":{}}""")));
        var calls = new Dictionary<int, (string? Id, string? Name, string Arguments)>();
        var finishReasons = new List<ChatFinishReason>();

        await foreach (var update in Chat("echo").CompleteChatStreamingAsync([new UserChatMessage("What time is it?")], options))
        {
            foreach (var call in update.ToolCallUpdates)
            {
                var (id, name, arguments) = calls.GetValueOrDefault(call.Index, (null, null, ""));
                calls[call.Index] = (id ?? call.ToolCallId, name ?? call.FunctionName, arguments + call.FunctionArgumentsUpdate?.ToString());
            }

            finishReasons.AddRange(update.FinishReason is { } finishReason ? [finishReason] : []);
        }

        var (callId, callName, callArguments) = Assert.Single(calls).Value;
        Assert.StartsWith("call_", callId, StringComparison.Ordinal);
        Assert.Equal(("get_time", "{}"), (callName, callArguments));
        Assert.Equal([ChatFinishReason.ToolCalls], finishReasons);
    }

    /// <summary>
    /// The SDK retries a 502 or 503 by itself (it does not read <c>x-should-retry</c>, as the npm SDK does): each of its
    /// tries is one more round of the gateway's own retries, which the README says to turn off. So turned off, a call
    /// the gateway could not complete is one round: its three attempts, then the error with the gateway's message.
    /// </summary>
    [Fact]
    public async Task AFailureTheGatewayAlreadyRetried_RaisesItsError_AfterTheGatewaysAttemptsAlone()
    {
        _upstream.DefaultScript = new UpstreamScript { Status = 500 };

        var exception = await Assert.ThrowsAsync<ClientResultException>(() => Chat("up").CompleteChatAsync([new UserChatMessage("hi")]));

        Assert.Equal(502, exception.Status);
        Assert.Contains("upstream_error", exception.Message, StringComparison.Ordinal);
        Assert.Equal(3, _upstream.Requests.Count);
    }

    [Fact]
    public async Task Models_ListsTheAliases_AndDescribesOne()
    {
        var models = new OpenAIModelClient(new ApiKeyCredential("sk-not-needed"), Options());

        OpenAIModelCollection all = await models.GetModelsAsync();
        OpenAIModel echo = await models.GetModelAsync("echo");

        Assert.Equal(["echo", "lorem", "up"], all.Select(model => model.Id).Order(StringComparer.Ordinal));
        Assert.Equal(("echo", "gateway"), (echo.Id, echo.OwnedBy));
        Assert.Equal(404, (await Assert.ThrowsAsync<ClientResultException>(() => models.GetModelAsync("no-such-model"))).Status);
    }
}

/// <summary>The .NET SDK against a gateway with API keys: the errors it raises are the ones its users handle.</summary>
public sealed class OfficialDotnetSdkKeyTests : IAsyncLifetime
{
    private const string AppKey = "gw-app-5e0c2d9a7b1f4c3e8d6a";
    private const string EchoOnlyKey = "gw-echo-only-91b7f3a2c6d4e8f0";
    private const string LimitedKey = "gw-limited-0a4e7c1d9b3f5a28";

    private GatewayHost _gateway = null!;

    public async Task InitializeAsync()
    {
        var settings = GatewayHost.SimulatedSettings();
        (string Name, string Key)[] keys = [("app", AppKey), ("echo-only", EchoOnlyKey), ("limited", LimitedKey)];
        for (var i = 0; i < keys.Length; i++)
        {
            settings[$"Gateway:Auth:Keys:{i}:Name"] = keys[i].Name;
            settings[$"Gateway:Auth:Keys:{i}:KeyHash"] = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(keys[i].Key)));
        }

        settings["Gateway:Auth:Keys:1:Models:0"] = "echo";
        settings["Gateway:Auth:Keys:2:RequestsPerMinute"] = "1";
        _gateway = await GatewayHost.StartAsync(settings);
    }

    public async Task DisposeAsync() => await _gateway.DisposeAsync();

    private ChatClient Chat(string model, string key) => new(
        model, new ApiKeyCredential(key), new OpenAIClientOptions { Endpoint = new Uri(_gateway.BaseAddress, "v1"), RetryPolicy = new ClientRetryPolicy(maxRetries: 0) });

    private static async Task<string> StreamAsync(ChatClient chat)
    {
        var text = new System.Text.StringBuilder();
        await foreach (var update in chat.CompleteChatStreamingAsync([new UserChatMessage("hello keys")]))
        {
            foreach (var part in update.ContentUpdate)
            {
                text.Append(part.Text);
            }
        }

        return text.ToString();
    }

    [Fact]
    public async Task AConfiguredKeyStreams_AWrongOneRaises401_AModelOutsideItsAllowlist403()
    {
        Assert.Equal("hello keys", await StreamAsync(Chat("echo", AppKey)));

        var wrong = await Assert.ThrowsAsync<ClientResultException>(() => StreamAsync(Chat("echo", "sk-wrong")));
        var notAllowed = await Assert.ThrowsAsync<ClientResultException>(() => StreamAsync(Chat("lorem", EchoOnlyKey)));

        Assert.Equal((401, true), (wrong.Status, wrong.Message.Contains("invalid_api_key", StringComparison.Ordinal)));
        Assert.Equal((403, true), (notAllowed.Status, notAllowed.Message.Contains("model_not_allowed", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task OverRequestsPerMinute_Raises429_WithRetryAfter()
    {
        var chat = Chat("echo", LimitedKey);
        Assert.Equal("hello keys", await StreamAsync(chat));

        var limited = await Assert.ThrowsAsync<ClientResultException>(() => StreamAsync(chat));

        Assert.Equal(429, limited.Status);
        Assert.True(limited.GetRawResponse()!.Headers.TryGetValue("Retry-After", out var retryAfter));
        Assert.InRange(int.Parse(retryAfter!, System.Globalization.CultureInfo.InvariantCulture), 1, 60);
    }
}
