using System.ClientModel;
using System.ClientModel.Primitives;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Gateway.Providers;
using Gateway.Providers.OpenAI;
using Gateway.Providers.Tools;
using Microsoft.Extensions.AI;
using OpenAI;
using OpenAI.Chat;
using ChatMessage = Microsoft.Extensions.AI.ChatMessage;

namespace Gateway.Tests.Providers.OpenAI;

/// <summary>The streamed request the gateway writes itself, held against the one the OpenAI SDK sends for the same call.</summary>
public sealed class StreamingChatRequestTests
{
    private const string BaseUrl = "http://127.0.0.1:9/v1";
    private const string Key = "sk-test-key";

    public static TheoryData<string> Cases =>
        ["minimal", "every option", "every role", "empty and unicode text", "max_tokens by its old name", "tools and tool turns", "a refusal in the history", "a named function", "required, no description", "passed-on parameters", "image parts"];

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Body_EqualsTheSdksBody(string name)
    {
        var (messages, options) = Case(name);

        var field = FieldFor(name);
        var sdk = await SdkRequestAsync(messages, options, field == ProviderOptions.MaxTokensName);
        using var ours = new StreamingChatRequest(BaseUrl, Key, field == ProviderOptions.MaxTokensName).Create(messages, options);
        var ourBody = await ours.Content!.ReadAsStringAsync();

        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(sdk.Body), JsonNode.Parse(ourBody)), $"SDK: {sdk.Body}\nours: {ourBody}");
        Assert.Equal(sdk.Uri, ours.RequestUri);
        Assert.Equal(sdk.Authorization, ours.Headers.Authorization?.ToString());
        Assert.Equal("application/json", ours.Content.Headers.ContentType?.MediaType);
    }

    [Theory]
    [InlineData("every option", "max_completion_tokens", "max_tokens")]
    [InlineData("max_tokens by its old name", "max_tokens", "max_completion_tokens")]
    public async Task Body_CarriesTheAuthorsName_AndTheCapUnderTheProvidersName(string name, string sent, string notSent)
    {
        var (messages, options) = Case(name);

        using var ours = new StreamingChatRequest(BaseUrl, Key, FieldFor(name) == ProviderOptions.MaxTokensName).Create(messages, options);
        var body = JsonNode.Parse(await ours.Content!.ReadAsStringAsync())!;

        Assert.Equal("ann", body["messages"]![0]!["name"]!.GetValue<string>());
        Assert.Equal(123, body[sent]!.GetValue<int>());
        Assert.Null(body[notSent]);
    }

    [Theory]
    [InlineData("http://127.0.0.1:9/v1/", "http://127.0.0.1:9/v1/chat/completions")]
    [InlineData("http://127.0.0.1:9", "http://127.0.0.1:9/chat/completions")]
    public void Endpoint_IsChatCompletionsUnderTheBaseUrl(string baseUrl, string expected)
    {
        using var request = new StreamingChatRequest(baseUrl, apiKey: null, capAsMaxTokens: false)
            .Create([new(ChatRole.User, "hi")], new ChatOptions { ModelId = "m" });

        Assert.Equal(new Uri(expected), request.RequestUri);
        Assert.Null(request.Headers.Authorization);
    }

    private static (List<ChatMessage> Messages, ChatOptions Options) Case(string name) => name switch
    {
        "minimal" => ([new(ChatRole.User, "hello")], new ChatOptions { ModelId = "gpt-test" }),
        "every option" => (
            [new(ChatRole.User, "hello") { AuthorName = "ann" }],
            new ChatOptions
            {
                ModelId = "gpt-test",
                Temperature = 0.2f,
                TopP = 0.9f,
                MaxOutputTokens = 123,
                Seed = 42,
                StopSequences = ["\n\n", "END"],
                AdditionalProperties = new AdditionalPropertiesDictionary { ["user"] = "end-user-7" },
            }),
        "max_tokens by its old name" => (
            [new(ChatRole.User, "hello") { AuthorName = "ann" }],
            new ChatOptions { ModelId = "gpt-test", MaxOutputTokens = 123 }),
        "every role" => (
            [new(ChatRole.System, "be terse"), new(new ChatRole("developer"), "dev note"), new(ChatRole.User, "q1"),
             new(ChatRole.Assistant, "a1"), new(ChatRole.User, "q2")],
            new ChatOptions { ModelId = "gpt-test", Temperature = 0f, StopSequences = [] }),
        "tools and tool turns" => (
            [new(ChatRole.User, "weather?"),
             new(ChatRole.Assistant, [new TextReasoningContent("Weather, then time."), new RawToolCall(0, "call_a", "get_weather", "{\"city\":\"Zürich\"}"), new RawToolCall(1, "call_b", "get_time", "{}")]),
             NamedResult("call_a", "rain", "get_weather"),
             ToolResults.Message("call_b", "noon"),
             new(ChatRole.Assistant, [new TextContent("Checking."), new RawToolCall(0, "call_c", "get_time", "{}")]),
             ToolResults.Message("call_c", "1 pm")],
            new ChatOptions
            {
                ModelId = "gpt-test",
                Tools = [Weather, new FunctionTool("get_time", null, null, null)],
                ToolMode = ChatToolMode.Auto,
                AllowMultipleToolCalls = false,
            }),
        "a refusal in the history" => (
            [new(ChatRole.User, "fill it in for him"), new(ChatRole.Assistant, [new RefusalContent("I can't help with that.")]), new(ChatRole.User, "ok")],
            new ChatOptions { ModelId = "gpt-test" }),
        "a named function" => (
            [new(ChatRole.User, "weather?")],
            new ChatOptions { ModelId = "gpt-test", Tools = [Weather], ToolMode = ChatToolMode.RequireSpecific("get_weather") }),
        "required, no description" => (
            [new(ChatRole.User, "weather?")],
            new ChatOptions { ModelId = "gpt-test", Tools = [new FunctionTool("f", "", JsonDocument.Parse("{}").RootElement, false)], ToolMode = ChatToolMode.RequireAny }),
        "passed-on parameters" => (
            [new(ChatRole.User, "weather?")],
            new ChatOptions
            {
                ModelId = "gpt-test",
                AdditionalProperties = new AdditionalPropertiesDictionary
                {
                    [ChatOptionKeys.PassedOn] = new List<KeyValuePair<string, JsonElement>>
                    {
                        new("response_format", JsonDocument.Parse("""{"type":"json_schema","json_schema":{"name":"w","strict":true,"schema":{"type":"object"}}}""").RootElement),
                        new("presence_penalty", JsonDocument.Parse("0.1").RootElement),
                        new("logit_bias", JsonDocument.Parse("""{"50256":-100}""").RootElement),
                        new("store", JsonDocument.Parse("true").RootElement),
                    },
                },
            }),
        "image parts" => (
            [new(ChatRole.User, "text alone"),
             new(ChatRole.User, [new TextContent("What is "), Image("""{ "type": "image_url", "image_url": {"url": "https://example.com/a.png", "detail": "low"} }"""),
                 new TextContent("this?"), Image("""{"type":"image_url","image_url":{"url":"data:image/png;base64,iVBORw0KGgo="}}""")]) { AuthorName = "ann" }],
            new ChatOptions { ModelId = "gpt-test" }),
        _ => ([new(ChatRole.System, ""), new(ChatRole.User, "héllo \"wörld\" <tag> & \u2028 😀")], new ChatOptions { ModelId = "gpt-test" }),
    };

    private static ImagePart Image(string json) => new(JsonDocument.Parse(json).RootElement, lowDetail: false);

    private static ChatMessage NamedResult(string callId, string text, string name)
    {
        var result = ToolResults.Message(callId, text);
        result.AuthorName = name;
        return result;
    }

    private static readonly FunctionTool Weather = new(
        "get_weather",
        "The weather in a city.",
        JsonDocument.Parse("""{"type":"object","properties":{"city":{"type":"string"}},"required":["city"],"additionalProperties":false}""").RootElement,
        strict: true);

    /// <summary>The provider's <c>MaxTokensField</c> in each case.</summary>
    private static string FieldFor(string name) =>
        name == "max_tokens by its old name" ? ProviderOptions.MaxTokensName : ProviderOptions.MaxCompletionTokensName;

    private static async Task<(string Body, Uri Uri, string? Authorization)> SdkRequestAsync(List<ChatMessage> messages, ChatOptions options, bool capAsMaxTokens)
    {
        var capture = new CapturingHandler();
        using var http = new HttpClient(capture);
        var client = new ChatClient(options.ModelId!, new ApiKeyCredential(Key), new OpenAIClientOptions
        {
            Endpoint = new Uri(BaseUrl),
            Transport = new HttpClientPipelineTransport(http),
            RetryPolicy = new ClientRetryPolicy(maxRetries: 0),
        });
        await foreach (var _ in client.CompleteChatStreamingAsync(OpenAiRequestMapper.ToSdkMessages(messages), OpenAiRequestMapper.ToSdkOptions(options, capAsMaxTokens)))
        {
        }

        return (capture.Body!, capture.Uri!, capture.Authorization);
    }

    private sealed class CapturingHandler : HttpMessageHandler
    {
        public string? Body { get; private set; }

        public Uri? Uri { get; private set; }

        public string? Authorization { get; private set; }

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Body = await request.Content!.ReadAsStringAsync(cancellationToken);
            Uri = request.RequestUri;
            Authorization = request.Headers.Authorization?.ToString();
            return new HttpResponseMessage(HttpStatusCode.OK)
            {
                Content = new StringContent("data: [DONE]\n\n", Encoding.UTF8, "text/event-stream"),
            };
        }
    }
}
