using System.Net;
using System.Text.Json;
using Gateway.Chat;
using Gateway.Security;
using Gateway.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Gateway.Tests.Chat;

/// <summary>
/// A user message's <c>image_url</c> parts, as the OpenAI SDKs send them to a vision model, reach a real
/// OpenAI-compatible server on loopback as the caller wrote them, in order with the text. Until 2026-12-07 every part
/// other than text was a 400.
/// </summary>
public sealed class ImagePartsTests : UpstreamGatewayTests
{
    // As a caller may write them: white space, an escaped slash and a member the gateway does not read must survive.
    private const string Link = """{ "type": "image_url", "image_url": {"url": "https:\/\/example.com\/cat.png", "detail": "low", "x": 1} }""";
    private const string Inline = """{"type":"image_url","image_url":{"url":"data:image/png;base64,iVBORw0KGgo="}}""";

    private const string Messages = $$"""
        [{"role":"system","content":"Be terse."},
         {"role":"user","content":[{"type":"text","text":"Only "},{"type":"text","text":"text."}]},
         {"role":"assistant","content":"Seen."},
         {"role":"user","name":"ann","content":[{"type":"text","text":"What is this?"},{{Link}},{"type":"text","text":" And this: \"é\"?"},{{Inline}}]}]
        """;

    [Fact]
    public async Task Stream_ImagePartsReachTheUpstream_InOrder_AsTheCallerWroteThem()
    {
        using var response = await Host.Client.PostAsync("/v1/chat/completions", Json.Body($$"""{"model":"up","stream":true,"messages":{{Messages}}}"""));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        await Sse.ReadAllDataAsync(response);
        Assert.Equal(
            """{"messages":[{"role":"system","content":"Be terse."},{"role":"user","content":"Only text."},{"role":"assistant","content":"Seen."},"""
            + """{"role":"user","content":[{"type":"text","text":"What is this?"},""" + Link + """,{"type":"text","text":" And this: \u0022\u00E9\u0022?"},""" + Inline + """],"name":"ann"}],"""
            + "\"model\":\"test-model\",\"stream\":true,\"stream_options\":{\"include_usage\":true}}",
            Assert.Single(Upstream.Requests).Body);
    }

    [Fact]
    public async Task NonStreaming_ImagePartsReachTheUpstream_InOrder_AsTheCallerWroteThem()
    {
        using var response = await Host.Client.PostAsync("/v1/chat/completions", Json.Body($$"""{"model":"up","messages":{{Messages}}}"""));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(
            """{"messages":[{"role":"system","content":"Be terse."},{"role":"user","content":"Only text."},{"role":"assistant","content":"Seen."},"""
            + """{"role":"user","name":"ann","content":[{"type":"text","text":"What is this?"},""" + Link + """,{"type":"text","text":" And this: \u0022\u00E9\u0022?"},""" + Inline + """]}],"""
            + "\"model\":\"test-model\"}",
            Assert.Single(Upstream.Requests).Body);
    }

    /// <summary>
    /// A photo as a data URL, past what <see cref="Uri"/> holds (~65,519 characters) and past the default body limit,
    /// which the test raises as the README says to.
    /// </summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task ADataUrlOf1_5MB_ReachesTheUpstreamWhole(bool stream)
    {
        var bytes = new byte[1_100_000];
        new Random(7).NextBytes(bytes);
        var part = $$$"""{"type":"image_url","image_url":{"url":"data:image/jpeg;base64,{{{Convert.ToBase64String(bytes)}}}","detail":"high"}}""";
        Assert.InRange(part.Length, 1_450_000, 1_550_000);
        var settings = GatewayHost.WithUpstream(GatewayHost.SimulatedSettings(), Upstream);
        settings["Gateway:Limits:MaxRequestBytes"] = (2 << 20).ToString(System.Globalization.CultureInfo.InvariantCulture);
        await using var gateway = await GatewayHost.StartAsync(settings);

        using var response = await gateway.Client.PostAsync(
            "/v1/chat/completions",
            Json.Body($$"""{"model":"up","stream":{{(stream ? "true" : "false")}},"messages":[{"role":"user","content":[{"type":"text","text":"Describe it."},{{part}}]}]}"""));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var text = stream ? Sse.Text(await Sse.ReadAllDataAsync(response)) : (await Json.ReadAsync(response))["choices"]![0]!["message"]!["content"]!.GetValue<string>();
        Assert.Equal("Describe it.", text);
        var sent = Assert.Single(Upstream.Requests).Body;
        Assert.Contains("""{"role":"user","content":[{"type":"text","text":"Describe it."},""" + part + "]}", sent, StringComparison.Ordinal);
    }

    /// <summary>
    /// Content parts early in a body that goes on for more than the serializer's 16 KiB buffer (a long conversation after
    /// them): they were read from part of the body, and were a 400 "Invalid type for 'messages[0].content'".
    /// </summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task PartsFollowedBy16KiBMore_ReachTheUpstream(bool stream)
    {
        var later = new string('x', 20_000);

        using var response = await Host.Client.PostAsync("/v1/chat/completions", Json.Body($$$"""
            {"model":"up","stream":{{{(stream ? "true" : "false")}}},"messages":[{"role":"user","content":[{"type":"text","text":"Only ","cache_control":{"type":"ephemeral"}},{"type":"text","text":"text."}]},
             {"role":"assistant","content":"Seen."},{"role":"user","content":[{"type":"text","text":"What is this?"},{{{Link}}}]},
             {"role":"assistant","content":"A cat."},{"role":"user","content":"{{{later}}}"}]}
            """));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var sent = Assert.Single(Upstream.Requests).Body;
        Assert.Contains("""{"role":"user","content":"Only text."}""", sent, StringComparison.Ordinal);
        Assert.Contains("""[{"type":"text","text":"What is this?"},""" + Link + "]", sent, StringComparison.Ordinal);
        Assert.Contains(later, sent, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"type":"image_url","image_url":{}}""", "An image part needs 'image_url' as an object with a non-empty 'url' string.")]
    [InlineData("""{"type":"image_url","image_url":{"url":""}}""", "An image part needs 'image_url' as an object with a non-empty 'url' string.")]
    [InlineData("""{"type":"image_url","image_url":{"url":7}}""", "An image part needs 'image_url' as an object with a non-empty 'url' string.")]
    [InlineData("""{"type":"image_url","image_url":"https://example.com/a.png"}""", "An image part needs 'image_url' as an object with a non-empty 'url' string.")]
    [InlineData("""{"type":"image_url"}""", "An image part needs 'image_url' as an object with a non-empty 'url' string.")]
    [InlineData("""{"type":"image_url","image_url":{"url":"ftp://example.com/a.png"}}""", "An image part's 'image_url.url' must be an https: or http: URL, or a data:image/...;base64,... URL.")]
    [InlineData("""{"type":"image_url","image_url":{"url":"https://"}}""", "An image part's 'image_url.url' must be an https: or http: URL, or a data:image/...;base64,... URL.")]
    [InlineData("""{"type":"image_url","image_url":{"url":"data:text/plain;base64,aGk="}}""", "An image part's 'image_url.url' must be an https: or http: URL, or a data:image/...;base64,... URL.")]
    [InlineData("""{"type":"image_url","image_url":{"url":"data:image/png,raw"}}""", "An image part's 'image_url.url' must be an https: or http: URL, or a data:image/...;base64,... URL.")]
    [InlineData("""{"type":"image_url","image_url":{"url":"data:image/png;base64,"}}""", "An image part's 'image_url.url' must be an https: or http: URL, or a data:image/...;base64,... URL.")]
    [InlineData("""{"type":"image_url","image_url":{"url":"https://example.com/a.png","detail":"medium"}}""", "An image part's 'image_url.detail' must be \"auto\", \"low\" or \"high\" (or left out).")]
    [InlineData("""{"type":"image_url","image_url":{"url":"https://example.com/a.png","detail":null}}""", "An image part's 'image_url.detail' must be \"auto\", \"low\" or \"high\" (or left out).")]
    [InlineData("""{"type":"image_url","image_url":{"url":"https://example.com/a.png","url":"https://example.com/b.png"}}""", "An image part names 'image_url.url' more than once.")]
    [InlineData("""{"type":"image_url","image_url":{"url":"https://example.com/a.png"},"image_url":{"url":"https://example.com/b.png"}}""", "A content part names 'image_url' more than once.")]
    [InlineData("""{"type":"image_url","image_url":{"url":"https://example.com/\udc00.png"}}""", "The text at 'messages[1].content' is not valid Unicode (invalid UTF-8, or a lone surrogate such as \\udc00).")]
    [InlineData("""{"type":"image_url","image_url":{"url":"https://example.com/a.png","note":"\udc00"}}""", "An image part's text is not valid Unicode (invalid UTF-8, or a lone surrogate such as \\udc00), at 'image_url.note'.")]
    public async Task AnImagePartThatIsNotOne_Is400_NamingThePart(string part, string message)
    {
        using var response = await Host.Client.PostAsync(
            "/v1/chat/completions", Json.Body($$"""{"model":"up","messages":[{"role":"system","content":"x"},{"role":"user","content":[{{part}},{"type":"text","text":"y"}]}]}"""));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var error = (await Json.ReadAsync(response))["error"]!;
        // As the refusals of text parts, one the part's reader does not own is named by the message's content.
        var param = message.StartsWith("An image part", StringComparison.Ordinal) ? "messages[1].content[0]" : "messages[1].content";
        Assert.Equal(("invalid_request_error", null, param, message), (error["type"]!.GetValue<string>(), error["code"]?.GetValue<string>(), error["param"]!.GetValue<string>(), error["message"]!.GetValue<string>()));
        Assert.Empty(Upstream.Requests);
    }

    [Theory]
    [InlineData("system")]
    [InlineData("developer")]
    [InlineData("assistant")]
    public async Task AnImageInAMessageNotTheUsers_Is400_NamingIt(string role)
    {
        using var response = await Host.Client.PostAsync("/v1/chat/completions", Json.Body($$"""
            {"model":"up","messages":[{"role":"user","content":"x"},{"role":"{{role}}","content":[{"type":"text","text":"see"},{{Inline}}]},{"role":"user","content":"y"}]}
            """));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var error = (await Json.ReadAsync(response))["error"]!;
        Assert.Equal(
            (null, "messages[1].content[1]", "messages[1].content[1]: only a user message may show the model an image."),
            (error["code"]?.GetValue<string>(), error["param"]!.GetValue<string>(), error["message"]!.GetValue<string>()));
        Assert.Empty(Upstream.Requests);
    }

    [Fact]
    public async Task AnImageInAToolResult_Is400_NamingIt()
    {
        using var response = await Host.Client.PostAsync("/v1/chat/completions", Json.Body($$$"""
            {"model":"up","messages":[{"role":"user","content":"x"},
             {"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function","function":{"name":"snap","arguments":"{}"}}]},
             {"role":"tool","tool_call_id":"c1","content":[{{{Inline}}}]}]}
            """));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var error = (await Json.ReadAsync(response))["error"]!;
        Assert.Equal(
            ("messages[2].content[0]", "messages[2].content[0]: only a user message may show the model an image."),
            (error["param"]!.GetValue<string>(), error["message"]!.GetValue<string>()));
        Assert.Empty(Upstream.Requests);
    }

    [Theory]
    [InlineData("""{"type":"input_audio","input_audio":{"data":"AAAA","format":"wav"}}""", "input_audio")]
    [InlineData("""{"type":"file","file":{"file_id":"file-1"}}""", "file")]
    public async Task AnotherKindOfPart_Is400_SayingWhichAreTaken(string part, string type)
    {
        using var response = await Host.Client.PostAsync("/v1/chat/completions", Json.Body($$"""{"model":"up","messages":[{"role":"user","content":[{{part}}]}]}"""));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var error = (await Json.ReadAsync(response))["error"]!;
        Assert.Equal(
            ("messages[0].content", $"Only text, image_url and refusal content parts are supported (got type '{type}')."),
            (error["param"]!.GetValue<string>(), error["message"]!.GetValue<string>()));
    }

    /// <summary>A simulated model reads text only: answered from the text, the caller would take the answer for one that saw the image.</summary>
    [Theory]
    [InlineData("echo", true)]
    [InlineData("lorem", false)]
    public async Task ASimulatedModelShownAnImage_Is400NamingIt(string model, bool stream)
    {
        using var response = await Host.Client.PostAsync("/v1/chat/completions", Json.Body($$"""{"model":"{{model}}","stream":{{(stream ? "true" : "false")}},"messages":{{Messages}}}"""));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var error = (await Json.ReadAsync(response))["error"]!;
        Assert.Equal(
            ("unsupported_parameter", "messages[3].content[1]", $"The simulated model '{model}' reads text only: it cannot see the image at 'messages[3].content[1]'."),
            (error["code"]!.GetValue<string>(), error["param"]!.GetValue<string>(), error["message"]!.GetValue<string>()));
    }

    /// <summary>
    /// A provider whose server would fetch links from inside the operator's network takes images as data URLs only
    /// (<c>ImageLinks: false</c>): a link is a 400 naming it, and nothing reaches that server; a data URL goes on.
    /// </summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task AProviderThatTakesNoImageLinks_RefusesALink_AndTakesADataUrl(bool stream)
    {
        var settings = GatewayHost.WithUpstream(GatewayHost.SimulatedSettings(), Upstream);
        settings["Gateway:Providers:inside:Type"] = "openai";
        settings["Gateway:Providers:inside:BaseUrl"] = Upstream.BaseUrl;
        settings["Gateway:Providers:inside:ImageLinks"] = "false";
        await using var gateway = await GatewayHost.StartAsync(GatewayHost.WithAlias(settings, "inside-vision", "inside", "test-model"));
        var streamed = stream ? "true" : "false";

        using var linked = await gateway.Client.PostAsync("/v1/chat/completions", Json.Body($$"""{"model":"inside-vision","stream":{{streamed}},"messages":{{Messages}}}"""));
        var refused = Upstream.Requests.Count;
        using var inline = await gateway.Client.PostAsync("/v1/chat/completions", Json.Body($$"""
            {"model":"inside-vision","stream":{{streamed}},"messages":[{"role":"user","content":[{"type":"text","text":"And this?"},{{Inline}}]}]}
            """));
        if (stream)
        {
            await Sse.ReadAllDataAsync(inline);
        }

        Assert.Equal(HttpStatusCode.BadRequest, linked.StatusCode);
        var error = (await Json.ReadAsync(linked))["error"]!;
        Assert.Equal(
            ("unsupported_parameter", "messages[3].content[1]",
                "Provider 'inside' takes images as data URLs only, not links for its server to fetch (its ImageLinks is false): send the image at 'messages[3].content[1]' itself, as a data:image/...;base64 URL."),
            (error["code"]!.GetValue<string>(), error["param"]!.GetValue<string>(), error["message"]!.GetValue<string>()));
        Assert.Equal(0, refused);
        Assert.Equal(HttpStatusCode.OK, inline.StatusCode);
        Assert.Contains(Inline, Assert.Single(Upstream.Requests).Body, StringComparison.Ordinal);
    }

    /// <summary>An image counts OpenAI's fixed price (85 tokens at low detail, 765 else), not its URL's characters.</summary>
    [Fact]
    public void ThePromptEstimate_CountsAnImageAtItsFixedPrice()
    {
        var request = JsonSerializer.Deserialize($$"""
            {"model":"up","messages":[{"role":"user","content":[{"type":"text","text":"abcdefgh"},{{Link}},{{Inline}}]}]}
            """, ChatJsonContext.Wire.ChatCompletionRequest)!;

        var messages = ChatRequestMapper.ToMessages(request);

        Assert.Equal("abcdefgh", messages[0].Text);
        Assert.Equal(2 + 85 + 765, TokenEstimate.Prompt(PromptText.Characters(messages)));
    }

    /// <summary>A 1 MB data URL read at four characters a token would be ~350,000 tokens, past any key's minute.</summary>
    [Fact]
    public async Task ALargeImage_IsWithinAKeysTokenBudget()
    {
        var settings = GatewayHost.WithUpstream(GatewayHost.SimulatedSettings(), Upstream).WithKey(0, "tpm", TestKeys.Client, tokensPerMinute: 1000);
        settings["Gateway:Limits:MaxRequestBytes"] = (2 << 20).ToString(System.Globalization.CultureInfo.InvariantCulture);
        await using var gateway = await GatewayHost.StartAsync(settings);
        var url = "data:image/png;base64," + new string('A', 1_400_000);

        using var response = await gateway.Client.SendAsync(TestKeys.Request(HttpMethod.Post, "/v1/chat/completions", TestKeys.Client, Json.Body($$$"""
            {"model":"up","max_tokens":10,"messages":[{"role":"user","content":[{"type":"text","text":"hi"},{"type":"image_url","image_url":{"url":"{{{url}}}"}}]}]}
            """)));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    /// <summary>The content log shows where an image was, never its URL: a data URL is the image, megabytes of it.</summary>
    [Fact]
    public async Task TheContentLog_ShowsAnImageAsAMarker_NotItsUrl()
    {
        var logs = new CapturedLogs();
        var settings = GatewayHost.WithUpstream(GatewayHost.SimulatedSettings(), Upstream);
        settings["Gateway:Telemetry:LogContent"] = "true";
        await using (var gateway = await GatewayHost.StartAsync(settings, services => services.AddSingleton<ILoggerProvider>(logs)))
        {
            using var response = await gateway.Client.PostAsync("/v1/chat/completions", Json.Body($$"""{"model":"up","messages":{{Messages}}}"""));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        var content = Assert.Single(logs.Lines, line => line.EventId == 901);
        Assert.Equal(
            "system: Be terse.\nuser: Only text.\nassistant: Seen.\nuser: What is this?[image] And this: \"é\"?[image]",
            content.Values["Prompt"]);
        Assert.DoesNotContain(logs.Lines, line => line.Message.Contains("base64", StringComparison.Ordinal) || line.Message.Contains("cat.png", StringComparison.Ordinal));
    }
}
