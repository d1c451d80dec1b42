using System.Net;
using System.Text.Json.Nodes;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Chat;

/// <summary>
/// OpenAI's parameters that change what the model writes (JSON mode and Structured Outputs, penalties, a reasoning
/// model's effort, OpenAI's own request options) go on to a real OpenAI-compatible server on loopback as the caller
/// wrote them. Until 2026-12-06 each was refused with a 400 <c>unsupported_parameter</c>.
/// </summary>
public sealed class PassedOnParametersTests : UpstreamGatewayTests
{
    // Each as the caller writes it; the schema's order, white space and numbers must survive the trip.
    private static readonly (string Name, string Json)[] Parameters =
    [
        ("response_format", """{"type":"json_schema","json_schema":{"name":"weather","strict":true,"schema":{ "type": "object", "properties": {"city": {"type":"string"}, "degrees": {"type":"number"}}, "required": ["city","degrees"], "additionalProperties": false }}}"""),
        ("presence_penalty", "0.1"),
        ("frequency_penalty", "-1.25"),
        ("logit_bias", """{"50256":-100,"15496":5}"""),
        ("reasoning_effort", "\"low\""),
        ("verbosity", "\"low\""),
        ("service_tier", "\"flex\""),
        ("store", "true"),
        ("metadata", """{"team":"search"}"""),
        ("prediction", """{"type":"content","content":"The weather in"}"""),
        ("prompt_cache_key", "\"weather-v1\""),
        ("safety_identifier", "\"user-7\""),
        ("prompt_cache_retention", "\"24h\""),
        ("prompt_cache_options", """{"mode":"implicit","ttl":"30m"}"""),
    ];

    private static HttpContent Request(string model, bool stream, string extra) =>
        Json.Body($$"""{"model":"{{model}}","stream":{{(stream ? "true" : "false")}},"messages":[{"role":"user","content":"Weather in Zürich?"}]{{extra}}}""");

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task TheyReachTheUpstream_AsTheCallerWroteThem(bool stream)
    {
        var extra = string.Concat(Parameters.Select(p => $",\"{p.Name}\":{p.Json}"));
        Upstream.Enqueue(new UpstreamScript { Tokens = ["""{"city":"Zürich",""", """ "degrees":7}"""] });

        using var response = await Host.Client.PostAsync("/v1/chat/completions", Request("up", stream, extra));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var text = stream ? Sse.Text(await Sse.ReadAllDataAsync(response)) : (await Json.ReadAsync(response))["choices"]![0]!["message"]!["content"]!.GetValue<string>();
        Assert.Equal("""{"city":"Zürich", "degrees":7}""", text);
        var sent = Assert.Single(Upstream.Requests);
        Assert.All(Parameters, p => Assert.True(JsonNode.DeepEquals(JsonNode.Parse(p.Json), sent.Json[p.Name]), $"{p.Name}: {sent.Json[p.Name]?.ToJsonString()}"));
        if (stream)
        {
            // The hand-written streamed body keeps the caller's bytes, white space in the schema included.
            Assert.Contains(Parameters[0].Json, sent.Body, StringComparison.Ordinal);
        }
    }

    /// <summary>With Structured Outputs a model may refuse instead of writing the JSON: until 2026-12-06 the refusal was dropped, an empty answer.</summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task AModelsRefusal_ReachesTheCaller(bool stream)
    {
        Upstream.Enqueue(stream
            ? new UpstreamScript
            {
                Tokens = [],
                Inject = (0, """
                    data: {"choices":[{"index":0,"delta":{"role":"assistant","content":null,"refusal":"I can't "}}]}

                    data: {"choices":[{"index":0,"delta":{"refusal":"help with that."}}]}


                    """.ReplaceLineEndings("\n")),
            }
            : new UpstreamScript
            {
                CompletionBody = """
                    {"id":"u7","object":"chat.completion","created":1,"model":"test-model","choices":[{"index":0,"message":{"role":"assistant","content":null,
                     "refusal":"I can't help with that."},"finish_reason":"stop"}],"usage":{"prompt_tokens":9,"completion_tokens":6,"total_tokens":15}}
                    """,
            });

        using var response = await Host.Client.PostAsync(
            "/v1/chat/completions", Request("up", stream, $",\"response_format\":{Parameters[0].Json}"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        if (stream)
        {
            var deltas = (await Sse.ReadAllDataAsync(response)).SkipLast(1).Select(d => JsonNode.Parse(d)!["choices"]![0]!["delta"]!).ToList();
            Assert.Equal("I can't help with that.", string.Concat(deltas.Select(d => d["refusal"]?.GetValue<string>())));
            Assert.All(deltas, d => Assert.True(string.IsNullOrEmpty(d["content"]?.GetValue<string>())));
        }
        else
        {
            var message = (await Json.ReadAsync(response))["choices"]![0]!["message"]!;
            Assert.Equal("I can't help with that.", message["refusal"]!.GetValue<string>());
            Assert.Null(message["content"]);
        }
    }

    /// <summary>Without the provider's count, a refusal is estimated as the text it is; it was counted as no answer at all.</summary>
    [Fact]
    public async Task AnUnstreamedRefusal_WithoutUsage_IsCountedAsTheTextItIs()
    {
        const string refusal = "I can't help with that.";
        Upstream.Enqueue(new UpstreamScript
        {
            OmitUsage = true,
            CompletionBody = $$"""
                {"id":"u11","object":"chat.completion","created":1,"model":"test-model","choices":[{"index":0,"message":{"role":"assistant","content":null,
                 "refusal":"{{refusal}}"},"finish_reason":"stop"}]}
                """,
        });

        using var response = await Host.Client.PostAsync("/v1/chat/completions", Request("up", stream: false, ""","response_format":{"type":"json_object"}"""));

        var body = await Json.ReadAsync(response);
        Assert.Equal(refusal, body["choices"]![0]!["message"]!["refusal"]!.GetValue<string>());
        Assert.Equal((refusal.Length + 3) / 4, body["usage"]!["completion_tokens"]!.GetValue<int>());
    }

    /// <summary>A name repeated inside a member taken as JSON is named, with the member; it was reported as the member repeated.</summary>
    [Theory]
    [InlineData("team")]
    [InlineData("data")] // the end of "metadata": not the member repeated
    public async Task ANameRepeatedInsideOne_IsNamedWithIt(string name)
    {
        using var response = await Host.Client.PostAsync("/v1/chat/completions", Request("up", stream: false, $$""","metadata":{"{{name}}":"a","{{name}}":"b"}"""));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var error = (await Json.ReadAsync(response))["error"]!;
        Assert.Equal(($"The request body names '{name}' more than once in 'metadata'.", "metadata"), (error["message"]!.GetValue<string>(), error["param"]!.GetValue<string>()));
        Assert.Empty(Upstream.Requests);
    }

    [Fact]
    public async Task ANullValue_IsNotSentOn()
    {
        using var response = await Host.Client.PostAsync("/v1/chat/completions", Request("up", stream: false, ""","response_format":null,"presence_penalty":null"""));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var sent = Assert.Single(Upstream.Requests).Json.AsObject();
        Assert.False(sent.ContainsKey("response_format") || sent.ContainsKey("presence_penalty"), sent.ToJsonString());
    }

    /// <summary>A simulated model answers in words: asked for JSON, it refuses, as a provider refuses what a model does not do.</summary>
    [Theory]
    [InlineData(true, """{"type":"json_object"}""")]
    [InlineData(false, """{"type":"json_schema","json_schema":{"name":"x","schema":{}}}""")]
    public async Task ASimulatedModelAskedForJson_Is400NamingResponseFormat(bool stream, string format)
    {
        using var response = await Host.Client.PostAsync("/v1/chat/completions", Request("echo", stream, $",\"response_format\":{format}"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var error = (await Json.ReadAsync(response))["error"]!;
        Assert.Equal(("response_format", "unsupported_parameter"), (error["param"]!.GetValue<string>(), error["code"]!.GetValue<string>()));
        Assert.Contains("cannot answer in JSON", error["message"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ASimulatedModel_IgnoresTheSamplingOnes_AsItIgnoresTemperature()
    {
        using var response = await Host.Client.PostAsync(
            "/v1/chat/completions", Request("echo", stream: false, ""","response_format":{"type":"text"},"presence_penalty":1,"logit_bias":{"1":1},"reasoning_effort":"high" """));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("Weather in Zürich?", (await Json.ReadAsync(response))["choices"]![0]!["message"]!["content"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("presence_penalty", "3")]
    [InlineData("presence_penalty", "1e400")]
    [InlineData("frequency_penalty", "\"0\"")]
    [InlineData("response_format", """{"type":1}""")]
    [InlineData("response_format", """{"type":"xml"}""")]
    [InlineData("response_format", """{"type":"json_schema"}""")]
    [InlineData("response_format", "\"json\"")]
    [InlineData("logit_bias", "[]")]
    [InlineData("reasoning_effort", "5")]
    [InlineData("store", "\"yes\"")]
    [InlineData("metadata", "[]")]
    [InlineData("prompt_cache_retention", "24")]
    [InlineData("prompt_cache_options", "\"explicit\"")]
    // Explicit mode caches only at content parts' breakpoints, which are not passed on: it would turn caching off (review, 2026-12-07).
    [InlineData("prompt_cache_options", """{"mode":"explicit"}""")]
    public async Task OneOfTheWrongKind_Is400NamingIt_AndNeverReachesTheUpstream(string name, string value)
    {
        using var response = await Host.Client.PostAsync("/v1/chat/completions", Request("up", stream: true, $",\"{name}\":{value}"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var error = (await Json.ReadAsync(response))["error"]!;
        Assert.Equal(name, error["param"]!.GetValue<string>());
        Assert.StartsWith($"'{name}' ", error["message"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Empty(Upstream.Requests);
    }
}
