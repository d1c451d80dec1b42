using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Chat;

public sealed class ChatCompletionsSimulatedTests : IAsyncLifetime
{
    private GatewayHost _gateway = null!;

    public async Task InitializeAsync() => _gateway = await GatewayHost.StartAsync(GatewayHost.SimulatedSettings());

    public async Task DisposeAsync() => await _gateway.DisposeAsync();

    [Theory]
    [InlineData("Hello, world!")]
    [InlineData("  leading and trailing  ")]
    [InlineData("tabs\tand\nnew lines, naïve café 🙂 \"quotes\" </script>")]
    public async Task Stream_Echo_ConcatenatedTokensEqualTheMessageExactly(string message)
    {
        using var response = await _gateway.Client.PostAsync("/v1/chat/completions", Json.ChatRequest("echo", message, stream: true));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var data = await Sse.ReadAllDataAsync(response);
        Assert.Equal(message, Sse.Text(data));
        Assert.Equal("[DONE]", data[^1]);
    }

    [Fact]
    public async Task Stream_SendsOpenAiChunksWithRoleFirstFinishReasonLastThenDone()
    {
        using var response = await _gateway.Client.PostAsync("/v1/chat/completions", Json.ChatRequest("echo", "one two three", stream: true));

        Assert.Equal("text/event-stream", response.Content.Headers.ContentType!.MediaType);
        Assert.Equal("no-cache", response.Headers.CacheControl!.ToString());
        Assert.Equal("no", response.Headers.GetValues("X-Accel-Buffering").Single());
        var data = await Sse.ReadAllDataAsync(response);
        Assert.Equal(5, data.Count); // three tokens, the finish chunk, [DONE]
        var chunks = data.Take(4).Select(d => JsonNode.Parse(d)!).ToList();
        Assert.All(chunks, c => Assert.Equal("chat.completion.chunk", c["object"]!.GetValue<string>()));
        Assert.All(chunks, c => Assert.Equal("echo", c["model"]!.GetValue<string>()));
        Assert.Single(chunks.Select(c => c["id"]!.GetValue<string>()).Distinct());
        Assert.Equal("assistant", chunks[0]["choices"]![0]!["delta"]!["role"]!.GetValue<string>());
        Assert.All(chunks.Skip(1), c => Assert.Null(c["choices"]![0]!["delta"]!["role"]));
        Assert.All(chunks.Take(3), c => Assert.Null(c["choices"]![0]!["finish_reason"]));
        Assert.Equal("stop", chunks[3]["choices"]![0]!["finish_reason"]!.GetValue<string>());
        Assert.All(chunks, chunk => Assert.False(chunk.AsObject().ContainsKey("usage"), "no usage member unless include_usage asks for it"));
    }

    [Fact]
    public async Task Stream_IncludeUsage_AddsAUsageChunkWithEmptyChoicesBeforeDone()
    {
        using var response = await _gateway.Client.PostAsync(
            "/v1/chat/completions", Json.ChatRequest("echo", "count these four words", stream: true, includeUsage: true));

        var data = await Sse.ReadAllDataAsync(response);
        Assert.Equal("[DONE]", data[^1]);
        var usageChunk = JsonNode.Parse(data[^2])!;
        Assert.Empty(usageChunk["choices"]!.AsArray());
        Assert.Equal(4, usageChunk["usage"]!["prompt_tokens"]!.GetValue<int>());
        Assert.Equal(4, usageChunk["usage"]!["completion_tokens"]!.GetValue<int>());
        Assert.Equal(8, usageChunk["usage"]!["total_tokens"]!.GetValue<int>());
        // As OpenAI writes them: every other chunk says "usage": null, which a client that tells the usage chunk by
        // `chunk.usage !== null` reads (without it, undefined passed that test on the first chunk; until 2026-12-07).
        var others = data.SkipLast(2).Select(d => JsonNode.Parse(d)!.AsObject()).ToList();
        Assert.Equal(5, others.Count);
        Assert.All(others, chunk => Assert.True(chunk.TryGetPropertyValue("usage", out var usage) && usage is null, chunk.ToJsonString()));
    }

    /// <summary>
    /// A simulated model's answer, streamed (with the usage chunk) and not, byte for byte but for its id and time: no
    /// <c>service_tier</c> or <c>system_fingerprint</c>, which only an upstream that sent them has.
    /// </summary>
    [Theory]
    [InlineData(true, "data: {\"id\":\"ID\",\"object\":\"chat.completion.chunk\",\"created\":0,\"model\":\"echo\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"one\"},\"finish_reason\":null}],\"usage\":null}\n\n"
        + "data: {\"id\":\"ID\",\"object\":\"chat.completion.chunk\",\"created\":0,\"model\":\"echo\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\" two\"},\"finish_reason\":null}],\"usage\":null}\n\n"
        + "data: {\"id\":\"ID\",\"object\":\"chat.completion.chunk\",\"created\":0,\"model\":\"echo\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}],\"usage\":null}\n\n"
        + "data: {\"id\":\"ID\",\"object\":\"chat.completion.chunk\",\"created\":0,\"model\":\"echo\",\"choices\":[],\"usage\":{\"prompt_tokens\":2,\"completion_tokens\":2,\"total_tokens\":4}}\n\n"
        + "data: [DONE]\n\n")]
    [InlineData(false, "{\"id\":\"ID\",\"object\":\"chat.completion\",\"created\":0,\"model\":\"echo\",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"one two\",\"refusal\":null},\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":2,\"completion_tokens\":2,\"total_tokens\":4}}")]
    public async Task ASimulatedAnswer_IsByteForByteWhatItWas_WithoutServiceTierOrFingerprint(bool stream, string expected)
    {
        using var response = await _gateway.Client.PostAsync("/v1/chat/completions", Json.ChatRequest("echo", "one two", stream, includeUsage: stream));

        var body = await response.Content.ReadAsStringAsync();
        var normalized = System.Text.RegularExpressions.Regex.Replace(body, "\"id\":\"chatcmpl-[^\"]+\",(.*?)\"created\":[0-9]+", "\"id\":\"ID\",$1\"created\":0");
        Assert.Equal(expected, normalized);
    }

    [Fact]
    public async Task Stream_LoremWithMaxTokens_StreamsThatManyWordsAndFinishesWithLength()
    {
        using var response = await _gateway.Client.PostAsync("/v1/chat/completions", Json.ChatRequest("lorem", "anything", stream: true, maxTokens: 7));

        var data = await Sse.ReadAllDataAsync(response);
        Assert.Equal("Lorem ipsum dolor sit amet, consectetur adipiscing", Sse.Text(data));
        Assert.Equal("length", JsonNode.Parse(data[^2])!["choices"]![0]!["finish_reason"]!.GetValue<string>());
    }

    [Fact]
    public async Task NonStreaming_ReturnsAChatCompletionWithUsage()
    {
        using var response = await _gateway.Client.PostAsync("/v1/chat/completions", Json.ChatRequest("echo", "hi there", stream: false));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType!.MediaType);
        var completion = await Json.ReadAsync(response);
        Assert.Equal("chat.completion", completion["object"]!.GetValue<string>());
        Assert.Equal("echo", completion["model"]!.GetValue<string>());
        Assert.StartsWith("chatcmpl-", completion["id"]!.GetValue<string>(), StringComparison.Ordinal);
        var choice = completion["choices"]![0]!;
        Assert.Equal("assistant", choice["message"]!["role"]!.GetValue<string>());
        Assert.Equal("hi there", choice["message"]!["content"]!.GetValue<string>());
        Assert.True(choice["message"]!.AsObject().TryGetPropertyValue("refusal", out var refusal) && refusal is null, "refusal: null, as OpenAI writes it");
        Assert.Equal("stop", choice["finish_reason"]!.GetValue<string>());
        Assert.Equal(2, completion["usage"]!["prompt_tokens"]!.GetValue<int>());
        Assert.Equal(2, completion["usage"]!["completion_tokens"]!.GetValue<int>());
    }

    [Fact]
    public async Task TextParts_AreJoinedIntoOneMessage()
    {
        var body = """{"model":"echo","messages":[{"role":"user","content":[{"type":"text","text":"one "},{"type":"text","text":"two"}]}]}""";
        using var response = await _gateway.Client.PostAsync("/v1/chat/completions", Json.Body(body));

        var completion = await Json.ReadAsync(response);
        Assert.Equal("one two", completion["choices"]![0]!["message"]!["content"]!.GetValue<string>());
    }

    [Fact]
    public async Task UnknownModel_Returns404WithTheOpenAiErrorBody()
    {
        using var response = await _gateway.Client.PostAsync("/v1/chat/completions", Json.ChatRequest("no-such-model", "hi", stream: true));

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType!.MediaType);
        var error = (await Json.ReadAsync(response))["error"]!;
        Assert.Equal("model_not_found", error["code"]!.GetValue<string>());
        Assert.Equal("invalid_request_error", error["type"]!.GetValue<string>());
        Assert.Equal("model", error["param"]!.GetValue<string>());
        Assert.Contains("no-such-model", error["message"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("{", null)]
    [InlineData("[]", null)]
    [InlineData("", null)]
    [InlineData("""{"model":"echo","messages":[{"role":"user","content":"x"}]} trailing""", null)]
    [InlineData("""{"model":"echo","messages":[{"role":"user","content":"x"}]}{}""", null)]
    [InlineData("""{"messages":[{"role":"user","content":"x"}]}""", "model")]
    [InlineData("""{"model":"echo","messages":[]}""", "messages")]
    [InlineData("""{"model":"echo","messages":[{"role":"wizard","content":"x"}]}""", "messages[0].role")]
    [InlineData("""{"model":"echo","messages":[{"role":"user","content":"x"}],"temperature":"hot"}""", "temperature")]
    [InlineData("""{"model":"echo","messages":[{"role":"user","content":"x"}],"temperature":3}""", "temperature")]
    [InlineData("""{"model":"echo","messages":[{"role":"user","content":"x"}],"max_tokens":0}""", "max_tokens")]
    [InlineData("""{"model":"lorem","messages":[{"role":"user","content":"x"}],"max_tokens":2147483647}""", "max_tokens")]
    [InlineData("""{"model":"lorem","stream":true,"messages":[{"role":"user","content":"x"}],"max_completion_tokens":1000001}""", "max_completion_tokens")]
    [InlineData("""{"model":"echo","messages":[{"role":"user","content":"x"}],"n":2}""", "n")]
    [InlineData("""{"model":"echo","messages":[{"role":"user","content":[{"type":"input_audio","input_audio":{"data":"AAAA","format":"wav"}}]}]}""", "messages[0].content")]
    [InlineData("""{"model":"echo","messages":[{"role":"user","content":[]}]}""", "messages[0].content")]
    public async Task InvalidRequest_Returns400WithTheOpenAiErrorBody(string body, string? param)
    {
        using var response = await _gateway.Client.PostAsync("/v1/chat/completions", Json.Body(body));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var error = (await Json.ReadAsync(response))["error"]!;
        Assert.Equal("invalid_request_error", error["type"]!.GetValue<string>());
        Assert.False(string.IsNullOrWhiteSpace(error["message"]!.GetValue<string>()));
        Assert.Equal(param, error["param"]?.GetValue<string>());
    }

    [Theory]
    [InlineData("""{"role":"user"}""")]
    [InlineData("""{"role":"user","content":null}""")]
    [InlineData("""{"role":"system","content":null}""")]
    public async Task AMessageWithoutContent_Is400_AsOpenAiAnswersIt_NotAnEmptyEcho(string message)
    {
        var body = $$"""{"model":"echo","messages":[{"role":"user","content":"hi"},{{message}}]}""";

        using var response = await _gateway.Client.PostAsync("/v1/chat/completions", Json.Body(body));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var error = (await Json.ReadAsync(response))["error"]!;
        Assert.Equal("missing_required_parameter", error["code"]!.GetValue<string>());
        Assert.Equal("messages[1].content", error["param"]!.GetValue<string>());
        Assert.Equal("Missing required parameter: 'messages[1].content'.", error["message"]!.GetValue<string>());
    }

    [Fact]
    public async Task AnAssistantTurnWithoutContent_IsAccepted_AsAtOpenAi()
    {
        const string Body = """{"model":"echo","messages":[{"role":"user","content":"hi"},{"role":"assistant","content":null},{"role":"user","content":"again"}]}""";

        using var response = await _gateway.Client.PostAsync("/v1/chat/completions", Json.Body(Body));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("again", (await Json.ReadAsync(response))["choices"]![0]!["message"]!["content"]!.GetValue<string>());
    }

    [Theory]
    [InlineData(5, 5)]
    [InlineData(5, 7)]
    public async Task BothCompletionCaps_Are400_AsOpenAiRefusesThem_RatherThanOneWinningSilently(int maxTokens, int maxCompletionTokens)
    {
        var body = $$"""{"model":"lorem","max_tokens":{{maxTokens}},"max_completion_tokens":{{maxCompletionTokens}},"messages":[{"role":"user","content":"x"}]}""";

        using var response = await _gateway.Client.PostAsync("/v1/chat/completions", Json.Body(body));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var error = (await Json.ReadAsync(response))["error"]!;
        Assert.Equal("invalid_parameter_combination", error["code"]!.GetValue<string>());
        Assert.Equal("max_tokens", error["param"]!.GetValue<string>());
        Assert.Equal("Setting 'max_tokens' and 'max_completion_tokens' at the same time is not supported.", error["message"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("""{"model":"nope","model":"echo","messages":[{"role":"user","content":"x"}]}""", "model")]
    [InlineData("""{"model":"echo","max_tokens":1,"max_tokens":5,"messages":[{"role":"user","content":"x"}]}""", "max_tokens")]
    [InlineData("""{"model":"echo","messages":[{"role":"user","role":"system","content":"x"}]}""", "messages[0].role")]
    [InlineData("""{"model":"echo","foo":1,"foo":2,"messages":[{"role":"user","content":"x"}]}""", "foo")]
    [InlineData("""{"model":"echo","presence_penalty":0,"presence_penalty":0,"messages":[{"role":"user","content":"x"}]}""", null)]
    public async Task AMemberNamedTwice_Is400_NamingIt_AsUnder_Api(string body, string? param)
    {
        using var response = await _gateway.Client.PostAsync("/v1/chat/completions", Json.Body(body));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var error = (await Json.ReadAsync(response))["error"]!;
        Assert.Equal(param, error["param"]?.GetValue<string>());
        Assert.Equal(
            param is null ? "The request body names a member more than once." : $"The request body names '{param}' more than once.",
            error["message"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("""[{"type":"text","text":"a","text":"b"}]""", "A content part names 'text' more than once.")]
    [InlineData("""[{"type":"image_url","type":"text","text":"hi"}]""", "A content part names 'type' more than once.")]
    [InlineData("""[{"type":"text","text":null}]""", "A text content part needs its 'text' as a string.")]
    [InlineData("""[{"type":{"nested":"text"},"text":"hi"}]""", "Only text, image_url and refusal content parts are supported (got type '').")]
    public async Task AContentPartThatIsNotPlainText_Is400_SayingWhy(string parts, string message)
    {
        var body = $$"""{"model":"echo","messages":[{"role":"user","content":{{parts}}}]}""";

        using var response = await _gateway.Client.PostAsync("/v1/chat/completions", Json.Body(body));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var error = (await Json.ReadAsync(response))["error"]!;
        Assert.Equal(message, error["message"]!.GetValue<string>());
        Assert.Equal("messages[0].content", error["param"]?.GetValue<string>());
    }

    [Theory]
    [InlineData("logprobs", "true")]
    [InlineData("top_logprobs", "3")]
    [InlineData("functions", """[{"name":"f","parameters":{}}]""")]
    [InlineData("function_call", """{"name":"f"}""")]
    [InlineData("modalities", """["text","audio"]""")]
    [InlineData("audio", """{"voice":"alloy","format":"mp3"}""")]
    [InlineData("modalities", "[1]")]
    [InlineData("web_search_options", "{}")]
    [InlineData("moderation", """{"model":"omni-moderation-latest"}""")]
    public async Task AParameterAskingForWhatTheGatewayDoesNotDo_Is400NamingIt_NotSilentlyDropped(string param, string value)
    {
        using var response = await _gateway.Client.PostAsync(
            "/v1/chat/completions", Json.Body($$"""{"model":"echo","{{param}}":{{value}},"messages":[{"role":"user","content":"x"}]}"""));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var error = (await Json.ReadAsync(response))["error"]!;
        Assert.Equal(param, error["param"]!.GetValue<string>());
        Assert.Equal("unsupported_parameter", error["code"]!.GetValue<string>());
        Assert.Equal($"'{param}' is not supported by this gateway; the request would not get what it asks for.", error["message"]!.GetValue<string>());
    }

    [Fact]
    public async Task AnAssistantTurnWithTheDeprecatedFunctionCall_Is400_NotSentOnWithoutIt()
    {
        using var response = await _gateway.Client.PostAsync("/v1/chat/completions", Json.Body("""
            {"model":"echo","messages":[{"role":"user","content":"x"},{"role":"assistant","content":"","function_call":{"name":"f","arguments":"{}"}},{"role":"user","content":"y"}]}
            """));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var error = (await Json.ReadAsync(response))["error"]!;
        Assert.Equal(
            ("messages[1].function_call", "unsupported_parameter", "'function_call' (deprecated by OpenAI) is not supported by this gateway: use 'tool_calls'."),
            (error["param"]!.GetValue<string>(), error["code"]!.GetValue<string>(), error["message"]!.GetValue<string>()));
    }

    [Fact]
    public async Task ANullMessage_IsNamedAsOne_NotAsAWrongRole()
    {
        using var response = await _gateway.Client.PostAsync("/v1/chat/completions", Json.Body("""{"model":"echo","messages":[null]}"""));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var error = (await Json.ReadAsync(response))["error"]!;
        Assert.Equal(("messages[0] must be a message object, not null.", "messages[0]"), (error["message"]!.GetValue<string>(), error["param"]!.GetValue<string>()));
    }

    [Fact]
    public async Task TheNeutralValuesClientsSendByDefault_AndFieldsNobodyKnows_Pass()
    {
        using var response = await _gateway.Client.PostAsync("/v1/chat/completions", Json.Body("""
            {"model":"echo","messages":[{"role":"user","content":"two words"},{"role":"assistant","content":"ok","tool_calls":[]},{"role":"user","content":"two words"}],"logprobs":false,"top_logprobs":0,
             "presence_penalty":0,"frequency_penalty":0.0,"logit_bias":{},"response_format":{"type":"text"},"tool_choice":"none",
             "parallel_tool_calls":true,"functions":[],"modalities":["text"],"audio":null,"metadata":{"k":"v"},"store":false,"verbosity":"medium",
             "service_tier":"auto","some_future_field":{"x":1}}
            """));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("two words", (await Json.ReadAsync(response))["choices"]![0]!["message"]!["content"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("""{"model":"echo","stream":"yes","messages":[{"role":"user","content":"x"}]}""", "Invalid type for 'stream'.", "stream")]
    [InlineData("""{"model":"echo","stream_options":5,"messages":[{"role":"user","content":"x"}]}""", "Invalid type for 'stream_options'.", "stream_options")]
    [InlineData("""{"model":"echo","messages":[{"role":"user","content":"x","name":7}]}""", "Invalid type for 'messages[0].name'.", "messages[0].name")]
    [InlineData("[]", "The request body must be a JSON object.", null)]
    [InlineData("""{"model":"echo","messages":[{"role":"user","content":[{"type":"file","file":{"file_id":"file-1"}}]}]}""", "Only text, image_url and refusal content parts are supported (got type 'file').", "messages[0].content")]
    [InlineData("""{"model":"echo","stop":7,"messages":[{"role":"user","content":"x"}]}""", "'stop' must be a string or an array of strings.", "stop")]
    public async Task AValueOfTheWrongType_IsNamedByItsPath_NotByTheGatewaysOwnTypes(string body, string message, string? param)
    {
        using var response = await _gateway.Client.PostAsync("/v1/chat/completions", Json.Body(body));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var error = (await Json.ReadAsync(response))["error"]!;
        Assert.Equal(message, error["message"]!.GetValue<string>());
        Assert.Equal(param, error["param"]?.GetValue<string>());
    }

    [Fact]
    public async Task BodyArrivingInPieces_IsReadWhole()
    {
        var body = Encoding.UTF8.GetBytes("""{"model":"echo","messages":[{"role":"user","content":"slow upload"}]}""");
        using var content = new PiecewiseContent(body[..20], body[20..]);
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");

        using var response = await _gateway.Client.PostAsync("/v1/chat/completions", content);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("slow upload", (await Json.ReadAsync(response))["choices"]![0]!["message"]!["content"]!.GetValue<string>());
    }

    [Fact]
    public async Task BodyWithAByteOrderMark_IsRead()
    {
        using var content = new ByteArrayContent([0xEF, 0xBB, 0xBF, .. Encoding.UTF8.GetBytes("""{"model":"echo","messages":[{"role":"user","content":"marked"}]}""")]);
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");

        using var response = await _gateway.Client.PostAsync("/v1/chat/completions", content);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("marked", (await Json.ReadAsync(response))["choices"]![0]!["message"]!["content"]!.GetValue<string>());
    }

    /// <summary>A body sent in parts with a pause between them, as a slow client's would arrive.</summary>
    private sealed class PiecewiseContent(params byte[][] pieces) : HttpContent
    {
        protected override async Task SerializeToStreamAsync(Stream stream, System.Net.TransportContext? context)
        {
            foreach (var piece in pieces)
            {
                await stream.WriteAsync(piece);
                await stream.FlushAsync();
                await Task.Delay(50);
            }
        }

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }
    }

    [Fact]
    public async Task NonJsonContentType_Returns415()
    {
        using var response = await _gateway.Client.PostAsync("/v1/chat/completions", new StringContent("model=echo"));

        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
        Assert.NotNull((await Json.ReadAsync(response))["error"]!["message"]);
    }

    [Fact]
    public async Task Models_ListsEveryAlias()
    {
        var models = await _gateway.Client.GetStringAsync("/v1/models");

        Assert.Equal(
            """{"object":"list","data":[{"id":"echo","object":"model","created":0,"owned_by":"gateway"},{"id":"lorem","object":"model","created":0,"owned_by":"gateway"}]}""",
            models);
    }

    [Fact]
    public async Task AnAliasWithASlash_IsDescribedToo_AsHuggingFaceNamesAre()
    {
        var settings = GatewayHost.WithAlias(GatewayHost.SimulatedSettings(), "meta-llama/Llama-3.1-8B-Instruct", "simulated", "echo");
        await using var gateway = await GatewayHost.StartAsync(settings);

        var model = await gateway.Client.GetStringAsync("/v1/models/meta-llama/Llama-3.1-8B-Instruct");
        var asTheSdksSendIt = await gateway.Client.GetStringAsync("/v1/models/meta-llama%2FLlama-3.1-8B-Instruct");

        Assert.Equal("""{"id":"meta-llama/Llama-3.1-8B-Instruct","object":"model","created":0,"owned_by":"gateway"}""", model);
        Assert.Equal(model, asTheSdksSendIt);
    }

    [Fact]
    public async Task EveryCompletion_CarriesItsOwnRequestId_AsOpenAiSendsOne()
    {
        using var first = await _gateway.Client.PostAsync("/v1/chat/completions", Json.ChatRequest("echo", "one", stream: false));
        using var second = await _gateway.Client.PostAsync("/v1/chat/completions", Json.ChatRequest("echo", "two", stream: true));
        using var refused = await _gateway.Client.PostAsync("/v1/chat/completions", Json.Body("""{"model":"echo"}"""));
        // Two requests of one caller's trace: the trace id is theirs to share, the request id is not.
        const string Traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
        var traced = new List<HttpResponseMessage>();
        for (var i = 0; i < 2; i++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = Json.ChatRequest("echo", "three", stream: false) };
            request.Headers.Add("traceparent", Traceparent);
            traced.Add(await _gateway.Client.SendAsync(request));
        }

        var ids = new[] { first, second, refused, traced[0], traced[1] }.Select(response => response.Headers.GetValues("x-request-id").Single()).ToList();
        Assert.All(ids, id => Assert.False(string.IsNullOrWhiteSpace(id)));
        Assert.Equal(5, ids.Distinct().Count());
        Assert.All(traced, response => Assert.StartsWith("0af7651916cd43dd8448eb211c80319c-", response.Headers.GetValues("x-request-id").Single(), StringComparison.Ordinal));
        traced.ForEach(response => response.Dispose());
    }

    [Theory]
    [InlineData("/v1/models")]
    [InlineData("/v1/models/echo")]
    [InlineData("/v1/models/no-such-model")]
    public async Task ModelRequests_CarryARequestIdToo(string path)
    {
        using var response = await _gateway.Client.GetAsync(path);

        Assert.Matches("^[0-9a-f]{32}-[0-9a-f]{16}$", response.Headers.GetValues("x-request-id").Single());
    }

    [Fact]
    public async Task ABodyRefusedBeforeTheEndpoint_CarriesARequestIdToo()
    {
        // Refused by routing (the endpoint accepts JSON alone), before the endpoint could set the header.
        using var response = await _gateway.Client.PostAsync("/v1/chat/completions", new StringContent("hi", System.Text.Encoding.UTF8, "text/plain"));

        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
        Assert.Matches("^[0-9a-f]{32}-[0-9a-f]{16}$", response.Headers.GetValues("x-request-id").Single());
    }

    [Fact]
    public async Task AModel_IsDescribedAsTheListDescribesIt_AndAnUnknownOneIs404ModelNotFound()
    {
        var echo = await _gateway.Client.GetStringAsync("/v1/models/echo");
        using var unknown = await _gateway.Client.GetAsync("/v1/models/gpt-9");

        Assert.Equal("""{"id":"echo","object":"model","created":0,"owned_by":"gateway"}""", echo);
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        var error = (await Json.ReadAsync(unknown))["error"]!;
        Assert.Equal(("model_not_found", "model"), (error["code"]!.GetValue<string>(), error["param"]!.GetValue<string>()));
    }

    [Theory]
    [InlineData("/healthz")]
    [InlineData("/readyz")]
    public async Task HealthEndpoints_AreHealthy(string path)
    {
        using var response = await _gateway.Client.GetAsync(path);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("Healthy", await response.Content.ReadAsStringAsync());
    }
}
