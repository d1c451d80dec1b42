using System.Net;
using System.Text;
using Gateway.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.Tests.Security;

/// <summary>
/// Whatever a caller sends, the answer is a 4xx with a proper body in the surface's shape, never a 5xx or a
/// hang, and the gateway keeps serving everyone else.
/// </summary>
public sealed class HostileInputTests : IAsyncLifetime
{
    private const string Chat = "/v1/chat/completions";
    private const string Ok = """{"model":"echo","messages":[{"role":"user","content":"hi"}]""";
    private const string Runs = "/api/runs";
    private const string Flow = """{"nodes":[{"id":"in","type":"input"},{"id":"llm","type":"llm","model":"echo","prompt":"in"},{"id":"out","type":"output","from":["llm"]}]}""";
    private GatewayHost _gateway = null!;

    public async Task InitializeAsync()
    {
        var settings = GatewayHost.SimulatedSettings().WithStandardKeys();
        settings["Gateway:Limits:MaxRequestBytes"] = "65536";
        _gateway = await GatewayHost.StartAsync(settings);
    }

    public async Task DisposeAsync() => await _gateway.DisposeAsync();

    public static TheoryData<string, string, string, string?, string?> Cases => new()
    {
        // name, method, path, content type, body
        { "truncated JSON", "POST", Chat, "application/json", "{" },
        { "not JSON", "POST", Chat, "application/json", "hello, gateway" },
        { "empty body", "POST", Chat, "application/json", "" },
        { "JSON null", "POST", Chat, "application/json", "null" },
        { "JSON array", "POST", Chat, "application/json", "[]" },
        { "JSON number", "POST", Chat, "application/json", "123" },
        { "model is a number", "POST", Chat, "application/json", """{"model":123,"messages":[{"role":"user","content":"hi"}]}""" },
        { "model is empty", "POST", Chat, "application/json", """{"model":"","messages":[{"role":"user","content":"hi"}]}""" },
        { "messages is a string", "POST", Chat, "application/json", """{"model":"echo","messages":"hi"}""" },
        { "message is null", "POST", Chat, "application/json", """{"model":"echo","messages":[null]}""" },
        { "content is a number", "POST", Chat, "application/json", """{"model":"echo","messages":[{"role":"user","content":42}]}""" },
        { "unknown role", "POST", Chat, "application/json", """{"model":"echo","messages":[{"role":"wizard","content":"hi"}]}""" },
        { "image content part", "POST", Chat, "application/json", """{"model":"echo","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"file:///etc/passwd"}}]}]}""" },
        { "stream is a string", "POST", Chat, "application/json", Ok + ""","stream":"yes"}""" },
        { "stream_options is a string", "POST", Chat, "application/json", Ok + ""","stream_options":"x"}""" },
        { "negative max_tokens", "POST", Chat, "application/json", Ok + ""","max_tokens":-1}""" },
        { "max_tokens overflows", "POST", Chat, "application/json", Ok + ""","max_tokens":1e309}""" },
        { "temperature is text", "POST", Chat, "application/json", Ok + ""","temperature":"hot"}""" },
        { "temperature out of range", "POST", Chat, "application/json", Ok + ""","temperature":1e9}""" },
        { "stop holds numbers", "POST", Chat, "application/json", Ok + ""","stop":[1,2]}""" },
        { "n is 5", "POST", Chat, "application/json", Ok + ""","n":5}""" },
        { "tool named as a command", "POST", Chat, "application/json", Ok + ""","tools":[{"type":"function","function":{"name":"rm -rf /","parameters":{}}}]}""" },
        { "tool parameters a string", "POST", Chat, "application/json", Ok + ""","tools":[{"type":"function","function":{"name":"f","parameters":"<script>"}}]}""" },
        { "tool result for no call", "POST", Chat, "application/json", """{"model":"echo","messages":[{"role":"tool","tool_call_id":"x","content":"hi"}]}""" },
        { "deeply nested arrays", "POST", Chat, "application/json", Ok + ""","x":""" + new string('[', 5000) + new string(']', 5000) + "}" },
        { "deeply nested objects", "POST", Chat, "application/json", Ok + ""","x":""" + string.Concat(Enumerable.Repeat("{\"a\":", 3000)) + "1" + new string('}', 3000) + "}" },
        { "nested content parts", "POST", Chat, "application/json", """{"model":"echo","messages":[{"role":"user","content":""" + new string('[', 100) + new string(']', 100) + "}]}" },
        { "body over the limit", "POST", Chat, "application/json", """{"model":"echo","messages":[{"role":"user","content":" """ + new string('a', 70_000) + "\"}]}" },
        { "lone surrogate escaped", "POST", Chat, "application/json", """{"model":"echo","messages":[{"role":"user","content":"\ud800"}]}""" },
        { "lone surrogate in model", "POST", Chat, "application/json", """{"model":"\udfff","messages":[{"role":"user","content":"hi"}]}""" },
        { "NUL in model", "POST", Chat, "application/json", """{"model":"echo\u0000","messages":[{"role":"user","content":"hi"}]}""" },
        { "RTL override in model", "POST", Chat, "application/json", """{"model":"\u202Eohce","messages":[{"role":"user","content":"hi"}]}""" },
        { "CR LF header injection in model", "POST", Chat, "application/json", """{"model":"echo\r\nX-Injected: 1\r\n\r\n<script>","messages":[{"role":"user","content":"hi"}]}""" },
        { "very long model name", "POST", Chat, "application/json", """{"model":" """ + new string('m', 20_000) + "\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}" },
        { "text/plain", "POST", Chat, "text/plain", Ok + "}" },
        { "form data", "POST", Chat, "application/x-www-form-urlencoded", "model=echo" },
        { "no content type", "POST", Chat, null, Ok + "}" },
        { "GET chat", "GET", Chat, null, null },
        { "POST models", "POST", "/v1/models", "application/json", "{}" },
        { "DELETE models", "DELETE", "/v1/models", null, null },
        { "encoded traversal", "GET", "/v1/%2e%2e/%2e%2e/etc/passwd", null, null },
        { "encoded slash", "GET", "/v1/models%2f..%2f..%2fhealthz", null, null },
        { "unknown v1 path", "GET", "/v1/engines", null, null },
        { "unknown root path", "GET", "/admin", null, null },
        { "odd Unicode path", "GET", "/v1/%E2%80%AEledom", null, null },
        { "CR LF in path", "GET", "/v1/models%0d%0aX-Injected:%201", null, null },
        { "run: truncated JSON", "POST", Runs, "application/json", "{\"flow\":" },
        { "run: flow is a string", "POST", Runs, "application/json", """{"flow":"rm -rf /","input":"x"}""" },
        { "run: no flow", "POST", Runs, "application/json", """{"input":"x"}""" },
        { "run: tweak injects a base URL", "POST", Runs, "application/json", """{"input":"x","flow":""" + Flow + ""","tweaks":{"llm":{"baseUrl":"http://169.254.169.254/"}}}""" },
        { "run: tweak injects a provider key", "POST", Runs, "application/json", """{"input":"x","flow":""" + Flow + ""","tweaks":{"llm":{"apiKey":"sk-evil","provider":"openai"}}}""" },
        { "run: tweak header injection", "POST", Runs, "application/json", """{"input":"x","flow":""" + Flow + ""","tweaks":{"llm":{"temperature":"0\r\nX-Injected: 1"}}}""" },
        { "run: tweak on an unknown node", "POST", Runs, "application/json", """{"input":"x","flow":""" + Flow + ""","tweaks":{"../etc":{"temperature":0}}}""" },
        { "run: node id path traversal", "POST", Runs, "application/json", """{"input":"x","flow":{"nodes":[{"id":"../../etc/passwd","type":"input"},{"id":"out","type":"output","from":["../../etc/passwd"]}]}}""" },
        { "run: cycle", "POST", Runs, "application/json", """{"flow":{"nodes":[{"id":"a","type":"prompt","template":"{{b}}"},{"id":"b","type":"prompt","template":"{{a}}"},{"id":"out","type":"output","from":["a"]}]}}""" },
        { "run: unknown node type", "POST", Runs, "application/json", """{"input":"x","flow":{"nodes":[{"id":"in","type":"shell","command":"id"},{"id":"out","type":"output","from":["in"]}]}}""" },
        { "run: deeply nested flow", "POST", Runs, "application/json", """{"input":"x","flow":""" + string.Concat(Enumerable.Repeat("{\"a\":", 3000)) + "1" + new string('}', 3000) + "}" },
        { "run: body over the limit", "POST", Runs, "application/json", """{"input":" """ + new string('a', 70_000) + "\",\"flow\":" + Flow + "}" },
        { "run: text/plain", "POST", Runs, "text/plain", """{"input":"x","flow":""" + Flow + """}""" },
        { "run id traversal", "GET", "/api/runs/..%2F..%2Fetc%2Fpasswd", null, null },
        { "flow id traversal", "GET", "/api/flows/%2e%2e%2f%2e%2e%2fgateway.db", null, null },
        { "flow id with CR LF", "GET", "/api/flows/a%0d%0aX-Injected:%201", null, null },
        { "runs limit not a number", "GET", "/api/runs?limit=1;DROP%20TABLE%20runs", null, null },
        { "usage from not a date", "GET", "/api/usage?from=%27%20OR%201=1", null, null },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task HostileRequest_Gets4xxWithAProperBody_AndTheGatewayStaysHealthy(
        string name, string method, string path, string? contentType, string? body)
    {
        using var request = TestKeys.Request(new HttpMethod(method), path, TestKeys.Client);
        if (body is not null)
        {
            request.Content = new ByteArrayContent(Encoding.UTF8.GetBytes(body));
            if (contentType is not null)
            {
                request.Content.Headers.TryAddWithoutValidation("Content-Type", contentType);
            }
        }

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        using var response = await _gateway.Client.SendAsync(request, timeout.Token);

        var status = (int)response.StatusCode;
        Assert.True(status is >= 400 and < 500, $"{name}: {status} {await response.Content.ReadAsStringAsync()}");
        Assert.False(response.Headers.Contains("X-Injected"), name);
        var json = await Json.ReadAsync(response);
        if (path.StartsWith("/v1/", StringComparison.Ordinal) && !path.Contains("%2e%2e", StringComparison.Ordinal))
        {
            Assert.False(string.IsNullOrEmpty(json["error"]?["message"]?.GetValue<string>()), name);
        }
        else
        {
            Assert.Equal(status, json["status"]?.GetValue<int>());
        }

        await AssertStillServingAsync();
    }

    [Theory]
    [InlineData("{\"model\":\"echo\",\"messages\":[{\"role\":\"user\",\"content\":\"X\"}]}", "messages[0].content")]
    [InlineData("{\"model\":\"X\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}", "model")]
    // Members kept as raw JSON, decoded only when a check read them: until 2026-12-06 a 500, or a 502 blamed on the provider.
    [InlineData("{\"model\":\"echo\",\"tool_choice\":\"X\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}", "tool_choice")]
    [InlineData("{\"model\":\"echo\",\"metadata\":{\"k\":\"X\"},\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}", "metadata.k")]
    [InlineData("{\"model\":\"echo\",\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"f\",\"parameters\":{\"type\":\"X\"}}}],\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}", "tools[0].function.parameters.type")]
    public async Task InvalidUtf8Bytes_Are400_SayingTheTextIsNotUnicode_NotThatItHasTheWrongType(string json, string param)
    {
        var bytes = Encoding.UTF8.GetBytes(json);
        bytes[Array.IndexOf(bytes, (byte)'X')] = 0xFF;
        using var content = new ByteArrayContent(bytes);
        content.Headers.ContentType = new("application/json");

        using var response = await _gateway.Client.SendAsync(TestKeys.Request(HttpMethod.Post, Chat, TestKeys.Client, content));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var error = (await Json.ReadAsync(response))["error"]!;
        Assert.Equal(param, error["param"]!.GetValue<string>());
        Assert.Equal($"The text at '{param}' is not valid Unicode (invalid UTF-8, or a lone surrogate such as \\udc00).", error["message"]!.GetValue<string>());
        await AssertStillServingAsync();
    }

    [Theory]
    [InlineData("""{"model":"echo","messages":[{"role":"user","content":"a\udc00b"}]}""", "messages[0].content")]
    [InlineData("""{"model":"echo","messages":[{"role":"user","content":"\ud800"}]}""", "messages[0].content")]
    [InlineData("""{"model":"echo","messages":[{"role":"user","content":"a\ud800b"}]}""", "messages[0].content")]
    [InlineData("""{"model":"\ud800","messages":[{"role":"user","content":"hi"}]}""", "model")]
    [InlineData("""{"model":"echo","user":"\udbff","messages":[{"role":"user","content":"hi"}]}""", "user")]
    [InlineData("""{"model":"echo","tool_choice":"\udc00","messages":[{"role":"user","content":"hi"}]}""", "tool_choice")]
    [InlineData("""{"model":"echo","tool_choice":{"type":"function","function":{"name":"\udc00"}},"messages":[{"role":"user","content":"hi"}]}""", "tool_choice.function.name")]
    [InlineData("""{"model":"echo","response_format":{"type":"\udc00"},"messages":[{"role":"user","content":"hi"}]}""", "response_format.type")]
    [InlineData("""{"model":"echo","function_call":"\udc00","messages":[{"role":"user","content":"hi"}]}""", "function_call")]
    [InlineData("""{"model":"echo","modalities":["\udc00"],"messages":[{"role":"user","content":"hi"}]}""", "modalities[0]")]
    [InlineData("""{"model":"echo","metadata":{"\udc00":"v"},"messages":[{"role":"user","content":"hi"}]}""", "metadata")]
    [InlineData("""{"model":"echo","tools":[{"type":"function","function":{"name":"f","parameters":{"properties":{"a":{"description":"\udc00"}}}}}],"messages":[{"role":"user","content":"hi"}]}""", "tools[0].function.parameters.properties.a.description")]
    public async Task ALoneSurrogate_Is400_SayingTheTextIsNotUnicode(string json, string param)
    {
        using var response = await _gateway.Client.SendAsync(TestKeys.Request(HttpMethod.Post, Chat, TestKeys.Client, Json.Body(json)));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var error = (await Json.ReadAsync(response))["error"]!;
        Assert.Equal(param, error["param"]!.GetValue<string>());
        Assert.Equal($"The text at '{param}' is not valid Unicode (invalid UTF-8, or a lone surrogate such as \\udc00).", error["message"]!.GetValue<string>());
    }

    [Fact]
    public async Task AMemberOpenAiDoesNotKnow_IsIgnored_WhateverTextItHolds()
    {
        using var response = await _gateway.Client.SendAsync(TestKeys.Request(
            HttpMethod.Post, Chat, TestKeys.Client, Json.Body("""{"model":"echo","x_extra":{"deep":["\udc00"]},"messages":[{"role":"user","content":"hi"}]}""")));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task ALoneSurrogateInATopLevelMembersName_Is400_SayingTheNameIsNotUnicode()
    {
        using var response = await _gateway.Client.SendAsync(TestKeys.Request(
            HttpMethod.Post, Chat, TestKeys.Client, Json.Body("""{"model":"echo","\ud800":1,"messages":[{"role":"user","content":"hi"}]}""")));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(
            "A member name in the request body is not valid Unicode (invalid UTF-8, or a lone surrogate such as \\udc00).",
            (await Json.ReadAsync(response))["error"]!["message"]!.GetValue<string>());
    }

    [Theory]
    [InlineData(Chat, "gzip", "application/json", HttpStatusCode.UnsupportedMediaType)]
    [InlineData(Chat, "br", "application/json", HttpStatusCode.UnsupportedMediaType)]
    [InlineData(Chat, null, "application/json; charset=iso-8859-1", HttpStatusCode.UnsupportedMediaType)]
    [InlineData(Chat, "identity", "application/json; charset=UTF-8", HttpStatusCode.OK)]
    [InlineData(Chat, null, "application/json; charset=\"utf-8\"", HttpStatusCode.OK)]
    [InlineData(Chat, null, "application/json; charset=us-ascii", HttpStatusCode.OK)]
    [InlineData(Runs, "gzip", "application/json", HttpStatusCode.UnsupportedMediaType)]
    [InlineData(Runs, null, "application/json; charset=utf-16", HttpStatusCode.UnsupportedMediaType)]
    [InlineData(Runs, null, "application/json; charset=utf-8", HttpStatusCode.OK)]
    public async Task ABodyInACodingOrCharsetTheGatewayDoesNotRead_Is415_NotReadAsPlainUtf8(
        string path, string? contentEncoding, string contentType, HttpStatusCode expected)
    {
        // Plain UTF-8 bytes under every header: read as they are labelled, only identity and UTF-8 may pass.
        var body = path == Chat ? Ok + "}" : """{"input":"x","flow":""" + Flow + "}";
        using var content = new ByteArrayContent(Encoding.UTF8.GetBytes(body));
        content.Headers.TryAddWithoutValidation("Content-Type", contentType);
        if (contentEncoding is not null)
        {
            content.Headers.ContentEncoding.Add(contentEncoding);
        }

        using var response = await _gateway.Client.SendAsync(TestKeys.Request(HttpMethod.Post, path, TestKeys.Client, content));

        Assert.Equal(expected, response.StatusCode);
        if (expected == HttpStatusCode.UnsupportedMediaType)
        {
            var json = await Json.ReadAsync(response);
            var message = (path == Chat ? json["error"]!["message"] : json["detail"])!.GetValue<string>();
            Assert.Contains(contentEncoding is null ? "UTF-8" : "uncompressed", message, StringComparison.Ordinal);
        }
    }

    /// <summary>
    /// Kestrel takes <c>Transfer-Encoding: gzip, chunked</c> and hands the handler the chunks' bytes still compressed:
    /// until 2026-12-06 a client that compressed at that level got "not valid JSON", about bytes it had sent right.
    /// </summary>
    [Theory]
    [InlineData(Chat, "\"error\"")]
    [InlineData(Runs, "\"detail\"")]
    public async Task ATransferCodingOtherThanChunked_Is415(string path, string errorMember)
    {
        var body = path == Chat ? Ok + "}" : """{"input":"x","flow":""" + Flow + "}";
        var answer = await RawHttp.ExchangeAsync(
            _gateway.BaseAddress,
            $"POST {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TestKeys.Client}\r\nContent-Type: application/json\r\n"
            + $"Transfer-Encoding: gzip, chunked\r\nConnection: close\r\n\r\n{Encoding.UTF8.GetByteCount(body):x}\r\n{body}\r\n0\r\n\r\n");

        Assert.StartsWith("HTTP/1.1 415 ", answer, StringComparison.Ordinal);
        Assert.Contains(errorMember, answer, StringComparison.Ordinal);
        Assert.Contains("Transfer-Encoding other than chunked", answer, StringComparison.Ordinal);
    }

    /// <summary>
    /// A caller that resets its connection halfway through sending a body has left; nothing failed. Until 2026-12-06 the
    /// reset, when it reached the body's read before the request's abort, was logged as the gateway's failure, with a
    /// stack trace, and counted as a 500.
    /// </summary>
    [Fact]
    public async Task ACallerThatResetsMidBody_IsNoFailureOfTheGateways()
    {
        var logs = new CapturedLogs();
        await using var gateway = await GatewayHost.StartAsync(GatewayHost.SimulatedSettings(), services => services.AddSingleton<Microsoft.Extensions.Logging.ILoggerProvider>(logs));
        foreach (var path in Enumerable.Repeat(new[] { Chat, "/api/flows", Runs }, 10).SelectMany(paths => paths))
        {
            using var tcp = new System.Net.Sockets.TcpClient { LingerState = new System.Net.Sockets.LingerOption(true, 0) };
            await tcp.ConnectAsync(gateway.BaseAddress.Host, gateway.BaseAddress.Port);
            var stream = tcp.GetStream();
            await stream.WriteAsync(Encoding.ASCII.GetBytes($"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n{{\"model\":"));
            await stream.FlushAsync();
            await Task.Delay(20);
            tcp.Client.Close(); // with a zero linger: a reset, not a close
        }

        using var healthy = await gateway.Client.PostAsync(Chat, Json.Body(Ok + "}"));
        Assert.Equal(HttpStatusCode.OK, healthy.StatusCode);
        await Task.Delay(200); // the last resets' requests end on their own threads
        Assert.DoesNotContain(logs.Lines, line => line.Level >= Microsoft.Extensions.Logging.LogLevel.Error);
        var (_, samples) = await Exposition.ScrapeAsync(gateway);
        Assert.DoesNotContain(samples, sample => sample.Key.StartsWith("http_server_request_duration_seconds_count{", StringComparison.Ordinal)
            && sample.Key.Contains("http_response_status_code=\"500\"", StringComparison.Ordinal));
    }

    [Fact]
    public async Task HostileKeys_Are401()
    {
        foreach (var key in new[] { new string('k', 8000), "Bearer Bearer", "gw-test-client-9d02aa ,x", "%67%77", "' OR 1=1 --" })
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/v1/models");
            request.Headers.TryAddWithoutValidation("x-api-key", key);
            using var response = await _gateway.Client.SendAsync(request);
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        }

        await AssertStillServingAsync();
    }

    [Theory]
    [InlineData("/v1/models%00")]
    [InlineData("/v1/chat/completions%00.json")]
    public async Task PathsKestrelRefusesToRoute_Are400_AndTheGatewayStaysHealthy(string path)
    {
        using var response = await _gateway.Client.SendAsync(TestKeys.Request(HttpMethod.Get, path, TestKeys.Client));

        // Kestrel answers these itself, before any middleware runs: a bare 400 is all HTTP/1.1 allows there.
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        await AssertStillServingAsync();
    }

    private async Task AssertStillServingAsync()
    {
        using var health = await _gateway.Client.GetAsync("/healthz");
        using var chat = await _gateway.Client.SendAsync(TestKeys.Request(HttpMethod.Post, Chat, TestKeys.Client, Json.ChatRequest("echo", "still here", stream: false)));
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        Assert.Equal(HttpStatusCode.OK, chat.StatusCode);
    }
}
