using System.Net;
using System.Text.Json.Nodes;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Chat;

/// <summary>
/// Tool calls (function calling) through the real gateway: the caller's functions and its tool turns sent on to a real
/// OpenAI-compatible server on loopback as written, the model's calls streamed back piece by piece as they come, and
/// every mistake in them a 400 that names it. Until 2026-12-06 every request with tools was refused.
/// </summary>
public sealed class ToolCallTests : UpstreamGatewayTests
{
    private const string WeatherParameters = """{"type":"object","properties":{"city":{"type":"string"}},"required":["city"],"additionalProperties":false}""";
    private const string TimeParameters = """{"type":"object","properties":{}}""";

    private const string Tools = $$$"""
        [{"type":"function","function":{"name":"get_weather","description":"The weather in a city.","parameters":{{{WeatherParameters}}},"strict":true}},
         {"type":"function","function":{"name":"get_time","parameters":{{{TimeParameters}}}}}]
        """;

    // How OpenAI streams two parallel calls: each call's first piece names it, the next ones carry its arguments.
    private const string StreamedCalls = """
        data: {"id":"u1","object":"chat.completion.chunk","created":1,"model":"test-model","choices":[{"index":0,"delta":{"role":"assistant","content":null,"tool_calls":[{"index":0,"id":"call_a","type":"function","function":{"name":"get_weather","arguments":""}}]},"finish_reason":null}]}

        data: {"id":"u1","object":"chat.completion.chunk","created":1,"model":"test-model","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"city\": \"Z"}}]},"finish_reason":null}]}

        data: {"id":"u1","object":"chat.completion.chunk","created":1,"model":"test-model","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"ürich 🌧\"}"}}]},"finish_reason":null}]}

        data: {"id":"u1","object":"chat.completion.chunk","created":1,"model":"test-model","choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"id":"call_b","type":"function","function":{"name":"get_time","arguments":"{}"}}]},"finish_reason":null}]}


        """;

    private static HttpContent Request(string model, bool stream, string messages = """[{"role":"user","content":"Weather and time in Zürich?"}]""", string choice = "\"auto\"") =>
        Json.Body($$"""{"model":"{{model}}","stream":{{(stream ? "true" : "false")}},"messages":{{messages}},"tools":{{Tools}},"tool_choice":{{choice}},"parallel_tool_calls":true}""");

    [Fact]
    public async Task Stream_TheModelsCalls_ArePassedOnPieceByPiece_AndTheCallersToolsReachTheUpstreamAsWritten()
    {
        Upstream.Enqueue(new UpstreamScript { Tokens = [], Inject = (0, StreamedCalls.ReplaceLineEndings("\n")), FinishReason = "tool_calls" });

        using var response = await Host.Client.PostAsync("/v1/chat/completions", Request("up", stream: true));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var data = await Sse.ReadAllDataAsync(response);
        Assert.Equal("[DONE]", data[^1]);
        var deltas = data.SkipLast(1).Select(d => JsonNode.Parse(d)!["choices"]![0]!).ToList();
        var pieces = deltas.Where(c => c["delta"]!["tool_calls"] is not null).Select(c => c["delta"]!["tool_calls"]).ToList();
        string[] expected =
        [
            """[{"index":0,"id":"call_a","type":"function","function":{"name":"get_weather","arguments":""}}]""",
            """[{"index":0,"function":{"arguments":"{\"city\": \"Z"}}]""",
            """[{"index":0,"function":{"arguments":"ürich 🌧\"}"}}]""",
            """[{"index":1,"id":"call_b","type":"function","function":{"name":"get_time","arguments":"{}"}}]""",
        ];
        Assert.Equal(expected.Length, pieces.Count);
        Assert.All(expected.Zip(pieces), pair => Assert.True(JsonNode.DeepEquals(JsonNode.Parse(pair.First), pair.Second), pair.Second!.ToJsonString()));
        Assert.Equal("assistant", deltas[0]["delta"]!["role"]!.GetValue<string>());
        Assert.Equal("tool_calls", deltas[^1]["finish_reason"]!.GetValue<string>());

        var sent = Assert.Single(Upstream.Requests).Json;
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(Tools), sent["tools"]), sent["tools"]!.ToJsonString());
        Assert.Equal("auto", sent["tool_choice"]!.GetValue<string>());
        Assert.True(sent["parallel_tool_calls"]!.GetValue<bool>());
    }

    [Fact]
    public async Task Complete_TheModelsCalls_AreTheMessagesToolCalls_WithNullContent()
    {
        Upstream.Enqueue(new UpstreamScript
        {
            CompletionBody = """
                {"id":"u2","object":"chat.completion","created":1,"model":"test-model","choices":[{"index":0,"message":{"role":"assistant","content":null,
                 "tool_calls":[{"id":"call_a","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Zürich\"}"}},
                               {"id":"call_b","type":"function","function":{"name":"get_time","arguments":"{}"}}]},"finish_reason":"tool_calls"}],
                 "usage":{"prompt_tokens":80,"completion_tokens":20,"total_tokens":100}}
                """,
        });

        using var response = await Host.Client.PostAsync(
            "/v1/chat/completions", Request("up", stream: false, choice: """{"type":"function","function":{"name":"get_weather"}}"""));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var choice = (await Json.ReadAsync(response))["choices"]![0]!;
        Assert.Equal("tool_calls", choice["finish_reason"]!.GetValue<string>());
        Assert.Equal(
            """{"role":"assistant","content":null,"tool_calls":[{"id":"call_a","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Zürich\"}"}},{"id":"call_b","type":"function","function":{"name":"get_time","arguments":"{}"}}],"refusal":null}""",
            choice["message"]!.ToJsonString(new System.Text.Json.JsonSerializerOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }));

        var sent = Assert.Single(Upstream.Requests).Json;
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(Tools), sent["tools"]), sent["tools"]!.ToJsonString());
        Assert.Equal("""{"type":"function","function":{"name":"get_weather"}}""", sent["tool_choice"]!.ToJsonString());
    }

    /// <summary>Some servers (llama.cpp, Ollama) end a turn that called functions with <c>stop</c>: callers that branch on it would not run them.</summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task ATurnThatCalledFunctions_FinishesWithToolCalls_WhereTheServerSaidStop(bool stream)
    {
        Upstream.Enqueue(stream
            ? new UpstreamScript { Tokens = [], Inject = (0, StreamedCalls.ReplaceLineEndings("\n")), FinishReason = "stop" }
            : new UpstreamScript
            {
                CompletionBody = """
                    {"id":"u4","object":"chat.completion","created":1,"model":"test-model","choices":[{"index":0,"message":{"role":"assistant","content":"",
                     "tool_calls":[{"id":"call_a","type":"function","function":{"name":"get_time","arguments":"{}"}}]},"finish_reason":"stop"}]}
                    """,
            });

        using var response = await Host.Client.PostAsync("/v1/chat/completions", Request("up", stream));

        var choice = stream
            ? JsonNode.Parse((await Sse.ReadAllDataAsync(response))[^2])!["choices"]![0]!
            : (await Json.ReadAsync(response))["choices"]![0]!;
        Assert.Equal("tool_calls", choice["finish_reason"]!.GetValue<string>());
    }

    /// <summary>
    /// A whole answer's thinking comes back as <c>message.reasoning_content</c>, so that a caller can send it back with the
    /// calls, as DeepSeek's thinking mode requires; the SDK does not read it, and it was dropped.
    /// </summary>
    [Theory]
    [InlineData("reasoning_content")]
    [InlineData("reasoning")]
    public async Task Complete_TheModelsThinking_ComesBackWithTheCalls(string field)
    {
        Upstream.Enqueue(new UpstreamScript
        {
            CompletionBody = $$$"""
                {"id":"u8","object":"chat.completion","created":1,"model":"test-model","choices":[{"index":0,"message":{"role":"assistant","content":null,
                 "{{{field}}}":"The weather tool knows.","tool_calls":[{"id":"call_a","type":"function","function":{"name":"get_weather","arguments":"{}"}}]},
                 "finish_reason":"tool_calls"}],"usage":{"prompt_tokens":9,"completion_tokens":6,"total_tokens":15}}
                """,
        });

        using var response = await Host.Client.PostAsync("/v1/chat/completions", Request("up", stream: false));

        var message = (await Json.ReadAsync(response))["choices"]![0]!["message"]!;
        Assert.Equal("The weather tool knows.", message["reasoning_content"]!.GetValue<string>());
        Assert.Null(message["content"]);
        Assert.Equal("call_a", message["tool_calls"]![0]!["id"]!.GetValue<string>());
    }

    /// <summary>
    /// Most answers' usage names <c>reasoning_tokens</c>: that is not thinking to read, and reading it failed an answer
    /// whose content came as parts (a retry, then a 502), for a commit's while.
    /// </summary>
    [Fact]
    public async Task Complete_AnAnswerWhoseUsageCountsReasoning_AndWhoseContentIsParts_IsAnsweredAtOnce()
    {
        Upstream.Enqueue(new UpstreamScript
        {
            CompletionBody = """
                {"id":"u9","object":"chat.completion","created":1,"model":"test-model","choices":[{"index":0,"message":{"role":"assistant",
                 "content":[{"type":"text","text":"hello"}]},"finish_reason":"stop"}],
                 "usage":{"prompt_tokens":9,"completion_tokens":1,"total_tokens":10,"completion_tokens_details":{"reasoning_tokens":0}}}
                """,
        });

        using var response = await Host.Client.PostAsync("/v1/chat/completions", Request("up", stream: false));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Single(Upstream.Requests);
    }

    /// <summary>A function named "arguments" is not a call's arguments: the object arguments after it are still made text.</summary>
    [Fact]
    public async Task Complete_AFunctionNamedArguments_DoesNotStopTheObjectArgumentsAfterItBeingText()
    {
        Upstream.Enqueue(new UpstreamScript
        {
            CompletionBody = """
                {"id":"u10","object":"chat.completion","created":1,"model":"test-model","choices":[{"index":0,"message":{"role":"assistant","content":null,
                 "tool_calls":[{"id":"call_a","type":"function","function":{"name":"arguments","arguments":{"a":1}}}]},"finish_reason":"tool_calls"}]}
                """,
        });

        using var response = await Host.Client.PostAsync("/v1/chat/completions", Request("up", stream: false));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var call = (await Json.ReadAsync(response))["choices"]![0]!["message"]!["tool_calls"]![0]!["function"]!;
        Assert.Equal(("arguments", """{"a":1}"""), (call["name"]!.GetValue<string>(), call["arguments"]!.GetValue<string>()));
        Assert.Single(Upstream.Requests);
    }

    /// <summary>A call the server made without an id gets one: the SDKs require it, and the caller sends it back with the call's result.</summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task ACallMadeWithoutAnId_GetsOne_ThatTheNextTurnMaySendBack(bool stream)
    {
        Upstream.Enqueue(stream
            ? new UpstreamScript
            {
                Tokens = [],
                Inject = (0, """data: {"choices":[{"index":0,"delta":{"role":"assistant","tool_calls":[{"index":0,"function":{"name":"get_time","arguments":"{}"}}]}}]}""" + "\n\n"),
                FinishReason = "tool_calls",
            }
            : new UpstreamScript
            {
                CompletionBody = """
                    {"id":"u6","object":"chat.completion","created":1,"model":"test-model","choices":[{"index":0,"message":{"role":"assistant","content":null,
                     "tool_calls":[{"type":"function","function":{"name":"get_time","arguments":"{}"}}]},"finish_reason":"tool_calls"}]}
                    """,
            });

        using var response = await Host.Client.PostAsync("/v1/chat/completions", Request("up", stream));

        var call = stream
            ? JsonNode.Parse((await Sse.ReadAllDataAsync(response))[0])!["choices"]![0]!["delta"]!["tool_calls"]![0]!
            : (await Json.ReadAsync(response))["choices"]![0]!["message"]!["tool_calls"]![0]!;
        var id = call["id"]!.GetValue<string>();
        Assert.Matches("^call_[0-9a-f]{24}$", id);
        Assert.Equal("function", call["type"]!.GetValue<string>());

        using var next = await Host.Client.PostAsync("/v1/chat/completions", Request("up", stream: false, $$$"""
            [{"role":"user","content":"time?"},
             {"role":"assistant","content":null,"tool_calls":[{"id":"{{{id}}}","type":"function","function":{"name":"get_time","arguments":"{}"}}]},
             {"role":"tool","tool_call_id":"{{{id}}}","content":"noon"}]
            """));
        Assert.Equal(HttpStatusCode.OK, next.StatusCode);
    }

    /// <summary>
    /// Older Ollama writes a call's arguments as the object itself (and servers have sent a number, or null): the SDK's
    /// parser refused it, and the call was retried, generated again, then failed 502.
    /// </summary>
    [Theory]
    [InlineData("""{"city": "Zürich", "days": [1, 2]}""", """{"city": "Zürich", "days": [1, 2]}""")]
    [InlineData("42", "42")]
    [InlineData("null", "")]
    public async Task Complete_ArgumentsWrittenAsAnythingButAString_AreItsText_AndTheCallIsMadeOnce(string written, string expected)
    {
        Upstream.Enqueue(new UpstreamScript
        {
            CompletionBody = $$$"""
                {"id":"u5","object":"chat.completion","created":1,"model":"test-model","choices":[{"index":0,"message":{"role":"assistant","content":"",
                 "tool_calls":[{"id":"call_a","type":"function","function":{"name":"get_weather","arguments":{{{written}}}}}]},"finish_reason":"tool_calls"}]}
                """,
        });

        using var response = await Host.Client.PostAsync("/v1/chat/completions", Request("up", stream: false));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var call = (await Json.ReadAsync(response))["choices"]![0]!["message"]!["tool_calls"]![0]!;
        Assert.Equal(expected, call["function"]!["arguments"]!.GetValue<string>());
        Assert.Single(Upstream.Requests);
    }

    /// <summary>
    /// A schema goes on as the caller's bytes: its white space, its text unescaped and its escapes as escaped, and ten
    /// levels of objects, which OpenAI's Structured Outputs allow (refused as "not valid JSON" at 32 levels). An escape
    /// that is not a whole character failed the streamed request as the provider's "invalid completion", three times;
    /// it is a 400 now, as in any other member (<c>HostileInputTests</c>).
    /// </summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task TheParametersSchema_GoesOnAsTheCallersBytes_TenLevelsDeepToo(bool stream)
    {
        // An escaped pair (an emoji) stays as escaped; a lone half (\ud800) is no text, and a 400 (HostileInputTests).
        var deep = "{\"type\":\"string\",\"description\":\"Zürich <&> \\ud83d\\ude00\"}";
        for (var level = 0; level < 10; level++)
        {
            deep = $$$"""{ "type": "object", "properties": { "l{{{level}}}": {"type":"array","items":{{{deep}}}} } }""";
        }

        Upstream.Enqueue(new UpstreamScript { Tokens = ["ok"] });

        using var response = await Host.Client.PostAsync("/v1/chat/completions", Json.Body($$$"""
            {"model":"up","stream":{{{(stream ? "true" : "false")}}},"messages":[{"role":"user","content":"x"}],
             "tools":[{"type":"function","function":{"name":"deep","strict":true,"parameters":{{{deep}}}}}]}
            """));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains($"\"parameters\":{deep}", Assert.Single(Upstream.Requests).Body.Replace("\"parameters\": ", "\"parameters\":", StringComparison.Ordinal));
    }

    /// <summary>
    /// Without the provider's count, the gateway's estimate (about four characters a token) counts what the model read
    /// and wrote: the functions offered, which providers count in the prompt, and the calls' names and arguments.
    /// </summary>
    [Fact]
    public async Task Complete_UpstreamThatReportsNoUsage_CountsTheFunctionsOffered_AndTheCallsMade()
    {
        const string arguments = """{"city":"Zürich"}""";
        Upstream.Enqueue(new UpstreamScript
        {
            OmitUsage = true,
            CompletionBody = $$$"""
                {"id":"u3","object":"chat.completion","created":1,"model":"test-model","choices":[{"index":0,"message":{"role":"assistant","content":null,
                 "tool_calls":[{"id":"call_a","type":"function","function":{"name":"get_weather","arguments":{{{System.Text.Json.JsonSerializer.Serialize(arguments)}}}}}]},"finish_reason":"tool_calls"}]}
                """,
        });

        using var response = await Host.Client.PostAsync("/v1/chat/completions", Request("up", stream: false));

        var usage = (await Json.ReadAsync(response))["usage"]!;
        var offered = "get_weather".Length + "The weather in a city.".Length + WeatherParameters.Length + "get_time".Length + TimeParameters.Length;
        Assert.Equal(("Weather and time in Zürich?".Length + offered + 3) / 4, usage["prompt_tokens"]!.GetValue<int>());
        Assert.Equal(("get_weather".Length + arguments.Length + 3) / 4, usage["completion_tokens"]!.GetValue<int>());
    }

    /// <summary>
    /// The conversation after the calls: the assistant's calls (and its thinking) and each function's result (and its
    /// name) go on as the caller sent them; the thinking and the name were dropped until the frameworks probe.
    /// </summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task TheAssistantsCalls_AndTheToolResults_AreSentOnWithTheirIds(bool stream)
    {
        const string conversation = """
            [{"role":"user","content":"Weather in Zürich?"},
             {"role":"assistant","content":null,"reasoning_content":"The weather tool knows.","tool_calls":[{"id":"call_a","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Zürich\"}"}}]},
             {"role":"tool","tool_call_id":"call_a","name":"get_weather","content":"rain, 7 °C"}]
            """;
        Upstream.Enqueue(new UpstreamScript { Tokens = ["It ", "rains."] });

        using var response = await Host.Client.PostAsync("/v1/chat/completions", Request("up", stream, conversation));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var text = stream ? Sse.Text(await Sse.ReadAllDataAsync(response)) : (await Json.ReadAsync(response))["choices"]![0]!["message"]!["content"]!.GetValue<string>();
        Assert.Equal("It rains.", text);
        var messages = Assert.Single(Upstream.Requests).Json["messages"]!.AsArray();
        Assert.Equal(3, messages.Count);
        Assert.Equal("assistant", messages[1]!["role"]!.GetValue<string>());
        Assert.Null(messages[1]!["content"]);
        Assert.True(
            JsonNode.DeepEquals(
                JsonNode.Parse("""[{"id":"call_a","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Zürich\"}"}}]"""),
                messages[1]!["tool_calls"]),
            messages[1]!.ToJsonString());
        Assert.Equal(("tool", "call_a", "rain, 7 °C"), (messages[2]!["role"]!.GetValue<string>(), messages[2]!["tool_call_id"]!.GetValue<string>(), messages[2]!["content"]!.GetValue<string>()));

        // The thinking goes only to a provider set to take it back (SendsReasoningBack): OpenAI and others refuse it.
        Assert.Null(messages[1]!["reasoning_content"]);
        Assert.Equal("get_weather", messages[2]!["name"]!.GetValue<string>());
    }

    /// <summary>
    /// An answer's refusal sent back in the history, as the SDKs send an answer's message whole: until 2026-12-06 (night)
    /// the upstream got an empty assistant turn, as if the model had said nothing.
    /// </summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task ARefusalInTheHistory_IsSentOnAsTheAssistantsRefusal(bool stream)
    {
        Upstream.Enqueue(new UpstreamScript { Tokens = ["Fine."] });

        using var response = await Host.Client.PostAsync("/v1/chat/completions", Request("up", stream, """
            [{"role":"user","content":"Fill the form for him."},
             {"role":"assistant","content":null,"refusal":"I can't help with that."},
             {"role":"user","content":"Then say fine."}]
            """));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var assistant = Assert.Single(Upstream.Requests).Json["messages"]![1]!;
        Assert.Equal(("assistant", "I can't help with that."), (assistant["role"]!.GetValue<string>(), assistant["refusal"]!.GetValue<string>()));
        Assert.Equal("", assistant["content"]!.GetValue<string>());
    }

    /// <summary>
    /// OpenAI's other form of the same history: the refusal as a part of the assistant's content. It was a 400 ("Only
    /// text and image_url content parts are supported"); found by the request fuzzer, 2026-12-07.
    /// </summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task ARefusalPartInTheHistory_IsSentOnAsTheAssistantsRefusal(bool stream)
    {
        Upstream.Enqueue(new UpstreamScript { Tokens = ["Fine."] });

        using var response = await Host.Client.PostAsync("/v1/chat/completions", Request("up", stream, """
            [{"role":"user","content":"Fill the form for him."},
             {"role":"assistant","content":[{"type":"text","text":"About that: "},{"type":"refusal","refusal":"I can't "},{"type":"refusal","refusal":"help with that."}]},
             {"role":"user","content":"Then say fine."}]
            """));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var assistant = Assert.Single(Upstream.Requests).Json["messages"]![1]!;
        Assert.Equal(("assistant", "About that: ", "I can't help with that."),
            (assistant["role"]!.GetValue<string>(), assistant["content"]!.GetValue<string>(), assistant["refusal"]!.GetValue<string>()));
    }

    /// <summary>A refusal is the model's: in a user, system or tool message it is a 400 naming the part, as an image outside a user message is.</summary>
    [Fact]
    public async Task ARefusalPartOutsideAnAssistantMessage_IsA400NamingIt()
    {
        using var response = await Host.Client.PostAsync("/v1/chat/completions", Request("up", false, """
            [{"role":"user","content":[{"type":"text","text":"hi"},{"type":"refusal","refusal":"no"}]}]
            """));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var error = (await Json.ReadAsync(response))["error"]!;
        Assert.Equal("messages[0].content[1]", error["param"]!.GetValue<string>());
        Assert.Contains("only an assistant message may carry a refusal", error["message"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Empty(Upstream.Requests);
    }

    /// <summary>DeepSeek's thinking mode refuses a turn that called tools without its thinking: a provider set so gets it back.</summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task AProviderThatTakesThinkingBack_GetsTheAssistantsThinking(bool stream)
    {
        var settings = GatewayHost.WithUpstream(GatewayHost.SimulatedSettings(), Upstream);
        settings["Gateway:Providers:upstream:SendsReasoningBack"] = "true";
        await using var gateway = await GatewayHost.StartAsync(settings);
        Upstream.Enqueue(new UpstreamScript { Tokens = ["ok"] });

        using var response = await gateway.Client.PostAsync("/v1/chat/completions", Request("up", stream, """
            [{"role":"user","content":"Weather?"},
             {"role":"assistant","content":null,"reasoning_content":"The weather tool knows.","tool_calls":[{"id":"call_a","type":"function","function":{"name":"get_weather","arguments":"{}"}}]},
             {"role":"tool","tool_call_id":"call_a","content":"rain"}]
            """));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var messages = Assert.Single(Upstream.Requests).Json["messages"]!.AsArray();
        Assert.Equal("The weather tool knows.", messages[1]!["reasoning_content"]!.GetValue<string>());
    }

    /// <summary>A call is the answer's first token: once a piece of it is out, a failure is not retried into a second call.</summary>
    [Fact]
    public async Task AnUpstreamThatDiesAfterTheFirstPieceOfACall_EndsWithAnErrorEvent_AndIsNotRetried()
    {
        var firstPiece = StreamedCalls.ReplaceLineEndings("\n").Split("\n\n")[0] + "\n\n";
        var pieceArrived = new TaskCompletionSource();
        Upstream.Enqueue(new UpstreamScript { Tokens = [], Inject = (0, firstPiece), DropAfterTokens = 0, DropWhen = pieceArrived.Task });

        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = Request("up", stream: true) };
        using var response = await Host.Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);

        // The upstream dies once the piece has reached the caller: a reset sent at once could discard it unread.
        var data = new List<string>();
        await foreach (var item in Sse.ReadAsync(response))
        {
            data.Add(item.Data);
            pieceArrived.TrySetResult();
        }

        Assert.Equal("call_a", JsonNode.Parse(data[0])!["choices"]![0]!["delta"]!["tool_calls"]![0]!["id"]!.GetValue<string>());
        Assert.NotNull(JsonNode.Parse(data[^1])!["error"]);
        Assert.DoesNotContain("[DONE]", data);
        Assert.Single(Upstream.Requests);
    }

    /// <summary>Before a call's first piece nothing has gone out: a failure then is retried like any other, and the caller sees one set of calls.</summary>
    [Fact]
    public async Task AnUpstreamThatFailsBeforeTheFirstPiece_IsRetried_AndTheCallsArriveOnce()
    {
        Upstream.Enqueue(new UpstreamScript { Status = 500 });
        Upstream.Enqueue(new UpstreamScript { Tokens = [], Inject = (0, StreamedCalls.ReplaceLineEndings("\n")), FinishReason = "tool_calls" });

        using var response = await Host.Client.PostAsync("/v1/chat/completions", Request("up", stream: true));

        var data = await Sse.ReadAllDataAsync(response);
        var ids = data.SkipLast(1).SelectMany(d => JsonNode.Parse(d)!["choices"]![0]!["delta"]!["tool_calls"]?.AsArray() ?? [])
            .Select(call => call!["id"]?.GetValue<string>()).OfType<string>();
        Assert.Equal(["call_a", "call_b"], ids);
        Assert.Equal("[DONE]", data[^1]);
        Assert.Equal(2, Upstream.Requests.Count);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task ASimulatedModelToldToCallAFunction_CallsIt_WithNoArguments(bool stream)
    {
        using var response = await Host.Client.PostAsync(
            "/v1/chat/completions", Request("echo", stream, choice: """{"type":"function","function":{"name":"get_time"}}"""));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        JsonNode call;
        if (stream)
        {
            var data = await Sse.ReadAllDataAsync(response);
            call = JsonNode.Parse(data[0])!["choices"]![0]!["delta"]!["tool_calls"]![0]!;
            Assert.Equal(0, call["index"]!.GetValue<int>());
            Assert.Equal("tool_calls", JsonNode.Parse(data[^2])!["choices"]![0]!["finish_reason"]!.GetValue<string>());
        }
        else
        {
            var choice = (await Json.ReadAsync(response))["choices"]![0]!;
            Assert.Equal("tool_calls", choice["finish_reason"]!.GetValue<string>());
            Assert.Null(choice["message"]!["content"]);
            call = Assert.Single(choice["message"]!["tool_calls"]!.AsArray())!;
        }

        Assert.StartsWith("call_", call["id"]!.GetValue<string>());
        Assert.Equal(("get_time", "{}"), (call["function"]!["name"]!.GetValue<string>(), call["function"]!["arguments"]!.GetValue<string>()));
    }

    [Fact]
    public async Task ASimulatedModelLeftToChoose_AnswersInText()
    {
        using var response = await Host.Client.PostAsync("/v1/chat/completions", Request("echo", stream: false));

        var choice = (await Json.ReadAsync(response))["choices"]![0]!;
        Assert.Equal(("Weather and time in Zürich?", "stop"), (choice["message"]!["content"]!.GetValue<string>(), choice["finish_reason"]!.GetValue<string>()));
        Assert.Null(choice["message"]!["tool_calls"]);
    }

    [Theory]
    [InlineData(""","tools":[{"type":"custom","custom":{"name":"f"}}]""", "tools[0].type", "unsupported_parameter")]
    [InlineData(""","tools":[{"type":"function"}]""", "tools[0].function", "missing_required_parameter")]
    [InlineData(""","tools":[{"function":{"name":"f"}}]""", "tools[0].type", "missing_required_parameter")]
    [InlineData(""","tools":[{"type":"function","function":{"name":"f"}}],"tool_choice":{"type":"allowed_tools","allowed_tools":{"mode":"auto","tools":[]}}""", "tool_choice", "unsupported_parameter")]
    [InlineData(""","tools":[{"type":"function","function":{"name":"get weather"}}]""", "tools[0].function.name", null)]
    [InlineData(""","tools":[{"type":"function","function":{"parameters":{}}}]""", "tools[0].function.name", null)]
    [InlineData(""","tools":[{"type":"function","function":{"name":"get_weather\n"}}]""", "tools[0].function.name", null)]
    [InlineData(""","tools":[{"type":"function","function":{"name":"f","parameters":[]}}]""", "tools[0].function.parameters", null)]
    [InlineData(""","tools":[null]""", "tools[0]", null)]
    [InlineData(""","tool_choice":"required" """, "tool_choice", null)]
    [InlineData(""","tool_choice":{"type":"function","function":{"name":"f"}}""", "tool_choice", null)]
    [InlineData(""","tools":[{"type":"function","function":{"name":"f"}}],"tool_choice":{"type":"function","function":{"name":"g"}}""", "tool_choice", null)]
    [InlineData(""","tools":[{"type":"function","function":{"name":"f"}}],"tool_choice":"any" """, "tool_choice", null)]
    [InlineData(""","tools":[{"type":"function","function":{"name":"f"}}],"tool_choice":true""", "tool_choice", null)]
    public async Task AMistakeInTheTools_Is400NamingIt(string extra, string param, string? code)
    {
        using var response = await Host.Client.PostAsync(
            "/v1/chat/completions", Json.Body($$"""{"model":"up","messages":[{"role":"user","content":"x"}]{{extra}}}"""));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var error = (await Json.ReadAsync(response))["error"]!;
        Assert.Equal((param, code), (error["param"]!.GetValue<string>(), error["code"]?.GetValue<string>()));
        Assert.Empty(Upstream.Requests);
    }

    [Theory]
    [InlineData("""[{"role":"tool","tool_call_id":"call_a","content":"rain"}]""", "messages[0].tool_call_id")]
    [InlineData("""[{"role":"user","content":"x"},{"role":"assistant","content":null,"tool_calls":[{"id":"call_a","type":"function","function":{"name":"f","arguments":"{}"}}]},{"role":"tool","content":"rain"}]""", "messages[2].tool_call_id")]
    [InlineData("""[{"role":"user","content":"x"},{"role":"assistant","content":null,"tool_calls":[{"id":"call_a","type":"function","function":{"name":"f","arguments":"{}"}}]},{"role":"tool","tool_call_id":"call_a"}]""", "messages[2].content")]
    [InlineData("""[{"role":"user","content":"x","tool_calls":[{"id":"call_a","type":"function","function":{"name":"f","arguments":"{}"}}]}]""", "messages[0].tool_calls")]
    [InlineData("""[{"role":"assistant","content":null,"tool_calls":[{"type":"function","function":{"name":"f","arguments":"{}"}}]}]""", "messages[0].tool_calls[0].id")]
    [InlineData("""[{"role":"assistant","content":null,"tool_calls":[{"id":"c","type":"function","function":{"name":"f"}}]}]""", "messages[0].tool_calls[0].function")]
    [InlineData("""[{"role":"assistant","content":null,"tool_calls":[{"id":"c","type":"web","function":{"name":"f","arguments":"{}"}}]}]""", "messages[0].tool_calls[0].type")]
    [InlineData("""[{"role":"assistant","content":null,"tool_calls":[null]}]""", "messages[0].tool_calls[0]")]
    public async Task AMistakeInTheToolTurns_Is400NamingIt(string messages, string param)
    {
        using var response = await Host.Client.PostAsync("/v1/chat/completions", Json.Body($$"""{"model":"up","messages":{{messages}}}"""));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(param, (await Json.ReadAsync(response))["error"]!["param"]!.GetValue<string>());
        Assert.Empty(Upstream.Requests);
    }

    public static TheoryData<string, string> PastALimit => new()
    {
        {
            ",\"tools\":[" + string.Join(",", Enumerable.Range(0, 129).Select(i => "{\"type\":\"function\",\"function\":{\"name\":\"f" + i + "\"}}")) + "]",
            "'tools' may hold at most 128 functions."
        },
        // Nested past the limit is not "not valid JSON", which it was said to be.
        { ",\"metadata_x\":" + new string('[', 70) + new string(']', 70), "The request body nests past the maximum depth of 64 levels, at 'metadata_x" },
    };

    [Theory]
    [MemberData(nameof(PastALimit))]
    public async Task ARequestPastALimit_Is400SayingWhich(string extra, string message)
    {
        using var response = await Host.Client.PostAsync("/v1/chat/completions", Json.Body($$"""{"model":"up","messages":[{"role":"user","content":"x"}]{{extra}}}"""));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.StartsWith(message, (await Json.ReadAsync(response))["error"]!["message"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Empty(Upstream.Requests);
    }

    /// <summary>Without tools, a choice and the parallel flag ask for nothing: OpenAI would refuse either one sent on alone.</summary>
    [Fact]
    public async Task WithoutTools_TheNeutralChoice_AndTheParallelFlag_AreNotSentOn()
    {
        using var response = await Host.Client.PostAsync(
            "/v1/chat/completions", Json.Body("""{"model":"up","messages":[{"role":"user","content":"x"}],"tool_choice":"none","parallel_tool_calls":false,"tools":[]}"""));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var sent = Assert.Single(Upstream.Requests).Json.AsObject();
        Assert.False(sent.ContainsKey("tools") || sent.ContainsKey("tool_choice") || sent.ContainsKey("parallel_tool_calls"), sent.ToJsonString());
    }
}
