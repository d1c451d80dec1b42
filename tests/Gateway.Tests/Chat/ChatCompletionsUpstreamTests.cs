using System.Net;
using System.Text.Json.Nodes;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Chat;

/// <summary>/v1 through the real gateway to a real OpenAI-compatible server on loopback.</summary>
public sealed class ChatCompletionsUpstreamTests : UpstreamGatewayTests
{
    [Fact]
    public async Task Stream_RelaysTheUpstreamTextUnderTheAlias()
    {
        using var response = await Host.Client.PostAsync("/v1/chat/completions", Json.ChatRequest("up", "relay every word", stream: true, includeUsage: true));

        var data = await Sse.ReadAllDataAsync(response);
        Assert.Equal("relay every word", Sse.Text(data));
        Assert.All(data.SkipLast(1), d => Assert.Equal("up", JsonNode.Parse(d)!["model"]!.GetValue<string>()));
        Assert.Equal(3, JsonNode.Parse(data[^2])!["usage"]!["completion_tokens"]!.GetValue<int>());
        Assert.Equal("test-model", Assert.Single(Upstream.Requests).Json["model"]!.GetValue<string>());
    }

    /// <summary>
    /// The upstream's own id for its response, which its support asks for, reaches the caller, streamed or not, and on
    /// the upstream's verdict passed on or a failure; until 2026-12-06 (night) only the gateway's log had it.
    /// </summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task TheUpstreamsRequestId_IsInTheAnswersHeaders(bool stream)
    {
        static Dictionary<string, string> Id(string id) => new() { ["x-request-id"] = id };
        Upstream.Enqueue(
            new UpstreamScript { Headers = Id("req_ok_1") },
            new UpstreamScript { Status = 404, Headers = Id("req_rejected_2"), ErrorBody = """{"error":{"message":"No such model.","code":"model_not_found"}}""" },
            new UpstreamScript { Status = 500, Headers = Id("req_failed_3") },
            new UpstreamScript { Status = 500, Headers = Id("req_failed_4") },
            new UpstreamScript { Status = 500, Headers = Id("req_failed_5") },
            new UpstreamScript { Headers = new Dictionary<string, string> { ["x-request-id"] = "two words" } });

        var seen = new List<(HttpStatusCode, string?)>();
        for (var i = 0; i < 4; i++)
        {
            using var response = await Host.Client.PostAsync("/v1/chat/completions", Json.ChatRequest("up", "hi", stream));
            await response.Content.ReadAsStringAsync();
            seen.Add((response.StatusCode, response.Headers.TryGetValues("X-Upstream-Request-Id", out var values) ? values.Single() : null));
        }

        // The last retry's answer is the failure's; a value that is no plain token is not passed on.
        Assert.Equal(
            [(HttpStatusCode.OK, "req_ok_1"), (HttpStatusCode.NotFound, "req_rejected_2"), (HttpStatusCode.BadGateway, "req_failed_5"), (HttpStatusCode.OK, null)],
            seen);
    }

    /// <summary>
    /// An upstream that answers its error in plain text (Ollama's "model not found", a small server's own words): the
    /// caller reads its first line after the status. Until 2026-12-07 only the status; a proxy's HTML page stays out.
    /// </summary>
    [Theory]
    [InlineData(true, "model 'llama9' not found, try pulling it first\nat line 2", "Provider 'upstream' answered HTTP 400: model 'llama9' not found, try pulling it first")]
    [InlineData(false, "\uFEFF  bad request: max_tokens too large  \r\n", "Provider 'upstream' answered HTTP 400: bad request: max_tokens too large")]
    [InlineData(false, "<html><body><h1>400 Bad Request</h1></body></html>", "Provider 'upstream' answered HTTP 400.")]
    public async Task AnUpstreamRejectionInPlainText_SaysItsFirstLine_ButNotAnHtmlPage(bool stream, string body, string expected)
    {
        Upstream.Enqueue(new UpstreamScript { Status = 400, ErrorBody = body });

        using var response = await Host.Client.PostAsync("/v1/chat/completions", Json.ChatRequest("up", "hi", stream));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(expected, (await Json.ReadAsync(response))["error"]!["message"]!.GetValue<string>());
    }

    /// <summary>
    /// A plain-text line that holds the provider's key where the line is first cut (past 64 KiB): the key is scrubbed
    /// before any cut, so no part of it reaches the caller (review, 2026-12-07: cut first, "Bearer sk-proj-SECR" did).
    /// And a 5xx's plain text is not quoted: that is a proxy on the way speaking, naming where the providers live.
    /// </summary>
    [Fact]
    public async Task APlainTextRejection_NeverShowsAPieceOfTheKey_AndA5xxsTextIsNotQuoted()
    {
        var key = FakeUpstream.ApiKey;
        var line = new string('x', (64 * 1024) - 10) + " Bearer " + key + " was refused";
        Upstream.Enqueue(new UpstreamScript { Status = 400, ErrorBody = line });
        using (var refused = await Host.Client.PostAsync("/v1/chat/completions", Json.ChatRequest("up", "hi", stream: false)))
        {
            var message = (await Json.ReadAsync(refused))["error"]!["message"]!.GetValue<string>();
            Assert.StartsWith("Provider 'upstream' answered HTTP 400: xxx", message, StringComparison.Ordinal);
            Assert.DoesNotContain(key[..6], message, StringComparison.Ordinal);
        }

        Upstream.Enqueue(new UpstreamScript { Status = 503, ErrorBody = "dial tcp 10.0.0.5:8000: connect: connection refused" });
        Upstream.Enqueue(new UpstreamScript { Status = 503, ErrorBody = "dial tcp 10.0.0.5:8000: connect: connection refused" });
        Upstream.Enqueue(new UpstreamScript { Status = 503, ErrorBody = "dial tcp 10.0.0.5:8000: connect: connection refused" });
        using var failed = await Host.Client.PostAsync("/v1/chat/completions", Json.ChatRequest("up", "hi", stream: false));
        Assert.DoesNotContain("10.0.0.5", await failed.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    /// <summary>An upstream's refusal with an empty message says its status, not "" (found by review, 2026-12-06).</summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task AnUpstreamRejectionWithAnEmptyMessage_SaysItsStatus(bool stream)
    {
        Upstream.Enqueue(new UpstreamScript { Status = 400, ErrorBody = """{"error":{"message":" ","type":"invalid_request_error"}}""" });

        using var response = await Host.Client.PostAsync("/v1/chat/completions", Json.ChatRequest("up", "hi", stream));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("Provider 'upstream' answered HTTP 400.", (await Json.ReadAsync(response))["error"]!["message"]!.GetValue<string>());
    }

    [Fact]
    public async Task Stream_UpstreamThatReportsNoUsage_StillEndsWithTheUsageChunkAskedFor_CountedAsTheBudgetCountsIt()
    {
        Upstream.Enqueue(new UpstreamScript { OmitUsage = true });

        using var response = await Host.Client.PostAsync("/v1/chat/completions", Json.ChatRequest("up", "relay every word", stream: true, includeUsage: true));

        var data = await Sse.ReadAllDataAsync(response);
        Assert.Equal("relay every word", Sse.Text(data));
        Assert.Equal("[DONE]", data[^1]);
        var last = JsonNode.Parse(data[^2])!;
        Assert.Empty(last["choices"]!.AsArray());
        // The prompt's 16 characters at about four a token, and a token for each of the three chunks of text.
        Assert.Equal(4, last["usage"]!["prompt_tokens"]!.GetValue<int>());
        Assert.Equal(3, last["usage"]!["completion_tokens"]!.GetValue<int>());
        Assert.Equal(7, last["usage"]!["total_tokens"]!.GetValue<int>());
    }

    [Fact]
    public async Task Complete_UpstreamThatReportsNoUsage_ShowsTheEstimate_NotZeros()
    {
        Upstream.Enqueue(new UpstreamScript { OmitUsage = true });

        using var response = await Host.Client.PostAsync("/v1/chat/completions", Json.ChatRequest("up", "relay every word", stream: false));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await Json.ReadAsync(response);
        Assert.Equal("relay every word", body["choices"]![0]!["message"]!["content"]!.GetValue<string>());
        // Prompt and answer are both 16 characters: about 4 tokens each.
        Assert.Equal(4, body["usage"]!["prompt_tokens"]!.GetValue<int>());
        Assert.Equal(4, body["usage"]!["completion_tokens"]!.GetValue<int>());
        Assert.Equal(8, body["usage"]!["total_tokens"]!.GetValue<int>());
    }

    /// <summary>Until 2026-12-06 (later) the details were dropped: a caller could not reconcile cached input or hidden reasoning.</summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task TheUpstreamsCachedAndReasoningTokens_ArePassedOn(bool stream)
    {
        Upstream.Enqueue(new UpstreamScript
        {
            Usage = """
                {"prompt_tokens":1200,"completion_tokens":300,"total_tokens":1500,
                 "prompt_tokens_details":{"cached_tokens":900,"audio_tokens":0},
                 "completion_tokens_details":{"reasoning_tokens":250,"audio_tokens":0}}
                """,
        });

        using var response = await Host.Client.PostAsync("/v1/chat/completions", Json.ChatRequest("up", "relay every word", stream, includeUsage: stream));

        var usage = stream ? JsonNode.Parse((await Sse.ReadAllDataAsync(response))[^2])!["usage"]! : (await Json.ReadAsync(response))["usage"]!;
        Assert.Equal(
            """{"prompt_tokens":1200,"completion_tokens":300,"total_tokens":1500,"prompt_tokens_details":{"cached_tokens":900},"completion_tokens_details":{"reasoning_tokens":250}}""",
            usage.ToJsonString());
    }

    /// <summary>
    /// The details the provider sent are passed on with their zeros, as OpenAI sends them: code written against OpenAI
    /// reads usage.prompt_tokens_details.cached_tokens unchecked, and until 2026-12-06 threw on such an answer, whose
    /// zeros were left out. Details the provider did not send are not made up.
    /// </summary>
    [Theory]
    [InlineData(true, """{"prompt_tokens":12,"completion_tokens":3,"total_tokens":15,"prompt_tokens_details":{"cached_tokens":0,"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":0}}""",
        """{"prompt_tokens":12,"completion_tokens":3,"total_tokens":15,"prompt_tokens_details":{"cached_tokens":0},"completion_tokens_details":{"reasoning_tokens":0}}""")]
    [InlineData(false, """{"prompt_tokens":12,"completion_tokens":3,"total_tokens":15,"prompt_tokens_details":{"cached_tokens":0,"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":0}}""",
        """{"prompt_tokens":12,"completion_tokens":3,"total_tokens":15,"prompt_tokens_details":{"cached_tokens":0},"completion_tokens_details":{"reasoning_tokens":0}}""")]
    // A details object without its count is a count of 0, streamed as the SDK reads it unstreamed.
    [InlineData(true, """{"prompt_tokens":12,"completion_tokens":3,"total_tokens":15,"prompt_tokens_details":{},"completion_tokens_details":{"reasoning_tokens":null}}""",
        """{"prompt_tokens":12,"completion_tokens":3,"total_tokens":15,"prompt_tokens_details":{"cached_tokens":0},"completion_tokens_details":{"reasoning_tokens":0}}""")]
    [InlineData(false, """{"prompt_tokens":12,"completion_tokens":3,"total_tokens":15,"prompt_tokens_details":{},"completion_tokens_details":{"reasoning_tokens":null}}""",
        """{"prompt_tokens":12,"completion_tokens":3,"total_tokens":15,"prompt_tokens_details":{"cached_tokens":0},"completion_tokens_details":{"reasoning_tokens":0}}""")]
    [InlineData(true, """{"prompt_tokens":12,"completion_tokens":3,"total_tokens":15}""", """{"prompt_tokens":12,"completion_tokens":3,"total_tokens":15}""")]
    [InlineData(false, """{"prompt_tokens":12,"completion_tokens":3,"total_tokens":15}""", """{"prompt_tokens":12,"completion_tokens":3,"total_tokens":15}""")]
    public async Task TheDetailsTheProviderSent_ArePassedOn_ZerosIncluded(bool stream, string reported, string passedOn)
    {
        Upstream.Enqueue(new UpstreamScript { Usage = reported });

        using var response = await Host.Client.PostAsync("/v1/chat/completions", Json.ChatRequest("up", "relay every word", stream, includeUsage: stream));

        var usage = stream ? JsonNode.Parse((await Sse.ReadAllDataAsync(response))[^2])!["usage"]! : (await Json.ReadAsync(response))["usage"]!;
        Assert.Equal(passedOn, usage.ToJsonString());
    }

    /// <summary>
    /// <c>"usage": {}</c> or zeros is a server that keeps no counts: counted as one that sends none is. Until 2026-12-06
    /// (later) it was taken at its word, and every such call was free to its key's token budget.
    /// </summary>
    [Theory]
    [InlineData(true, "{}")]
    [InlineData(false, "{}")]
    [InlineData(true, """{"prompt_tokens":0,"completion_tokens":0,"total_tokens":0}""")]
    [InlineData(false, """{"prompt_tokens":0,"completion_tokens":0,"total_tokens":0}""")]
    // A negative count refilled the key's token budget (until 2026-12-06, evening), and went back as a negative total.
    [InlineData(true, """{"prompt_tokens":-100000,"completion_tokens":1,"total_tokens":-99999}""")]
    [InlineData(false, """{"prompt_tokens":-100000,"completion_tokens":1,"total_tokens":-99999}""")]
    [InlineData(false, """{"prompt_tokens":5,"completion_tokens":3,"total_tokens":8,"completion_tokens_details":{"reasoning_tokens":-1}}""")]
    // 2^63 - 1 summed past long, or settled a key's budget into a debt whose wait overflowed (every later call a 500).
    [InlineData(true, """{"prompt_tokens":9223372036854775807,"completion_tokens":9223372036854775807}""")]
    public async Task AnUpstreamUsageThatCountsNothing_IsCountedAsTheGatewaySawIt(bool stream, string reported)
    {
        Upstream.Enqueue(new UpstreamScript { Usage = reported });

        using var response = await Host.Client.PostAsync("/v1/chat/completions", Json.ChatRequest("up", "relay every word", stream, includeUsage: stream));

        var usage = stream ? JsonNode.Parse((await Sse.ReadAllDataAsync(response))[^2])!["usage"]! : (await Json.ReadAsync(response))["usage"]!;
        // The prompt's 16 characters at about four a token; the answer's three chunks streamed, or its 16 characters.
        Assert.Equal(4, usage["prompt_tokens"]!.GetValue<int>());
        Assert.Equal(stream ? 3 : 4, usage["completion_tokens"]!.GetValue<int>());
    }

    [Fact]
    public async Task Stream_UpstreamWhoseFirstChunkHasNoText_SendsTheRoleFirst_ThenEveryToken()
    {
        Upstream.Enqueue(new UpstreamScript { Tokens = ["", "Hello", " world"] });

        using var response = await Host.Client.PostAsync("/v1/chat/completions", Json.ChatRequest("up", "ignored", stream: true));

        var data = await Sse.ReadAllDataAsync(response);
        Assert.Equal(5, data.Count); // role, two tokens, finish, [DONE]
        var deltas = data.Take(3).Select(d => JsonNode.Parse(d)!["choices"]![0]!["delta"]!).ToList();
        Assert.Equal("assistant", deltas[0]["role"]!.GetValue<string>());
        Assert.Equal(["", "Hello", " world"], deltas.Select(delta => delta["content"]!.GetValue<string>()));
        Assert.All(deltas.Skip(1), delta => Assert.Null(delta["role"]));
        Assert.Equal("stop", JsonNode.Parse(data[3])!["choices"]![0]!["finish_reason"]!.GetValue<string>());
        Assert.Equal("[DONE]", data[4]);
    }

    [Fact]
    public async Task Stream_UpstreamWithUnknownFinishReasonAndNoCreated_EndsNormally()
    {
        Upstream.Enqueue(new UpstreamScript { FinishReason = "eos", OmitCreated = true, OmitId = true });

        using var response = await Host.Client.PostAsync("/v1/chat/completions", Json.ChatRequest("up", "odd but fine", stream: true));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var data = await Sse.ReadAllDataAsync(response);
        Assert.Equal("odd but fine", Sse.Text(data));
        Assert.Equal("stop", JsonNode.Parse(data[^2])!["choices"]![0]!["finish_reason"]!.GetValue<string>());
        Assert.Equal("[DONE]", data[^1]);
    }

    /// <summary>
    /// A streamed call names its client as an unstreamed one does, with the SDK's <c>User-Agent</c>: the streamed
    /// request, built without the SDK, went with none, which some firewalls in front of model servers refuse.
    /// </summary>
    [Fact]
    public async Task StreamedAndUnstreamedCalls_SendTheSameUserAgent_TheSdks()
    {
        using var streamed = await Host.Client.PostAsync("/v1/chat/completions", Json.ChatRequest("up", "one", stream: true));
        await Sse.ReadAllDataAsync(streamed);
        using var unstreamed = await Host.Client.PostAsync("/v1/chat/completions", Json.ChatRequest("up", "two", stream: false));
        await unstreamed.Content.ReadAsStringAsync();

        var agents = Upstream.Requests.Select(request => request.UserAgent).ToArray();
        Assert.Equal(2, agents.Length);
        Assert.Equal(agents[1], agents[0]);
        Assert.Matches(@"^OpenAI/\d+\.\d+\.\d+ \(\.NET ", agents[0]);
    }

    [Fact]
    public async Task Stream_UpstreamDropsMidway_EndsWithErrorEventAndNoDone()
    {
        // The pause lets the tokens reach the gateway before the reset, as they would from a real server.
        Upstream.Enqueue(new UpstreamScript { DropAfterTokens = 2, TokenDelay = TimeSpan.FromMilliseconds(30) });

        using var response = await Host.Client.PostAsync("/v1/chat/completions", Json.ChatRequest("up", "one two three four", stream: true));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var data = await Sse.ReadAllDataAsync(response);
        Assert.DoesNotContain("[DONE]", data);
        Assert.Equal("one two", Sse.Text(data.SkipLast(1)));
        var error = JsonNode.Parse(data[^1])!["error"]!;
        Assert.Equal("upstream_error", error["code"]!.GetValue<string>());
        Assert.DoesNotContain(data, d => d.Contains("\"finish_reason\":\"", StringComparison.Ordinal));
    }

    [Fact]
    public async Task UpstreamErrorBeforeFirstToken_Returns502WithTheOpenAiErrorBody()
    {
        Upstream.DefaultScript = new UpstreamScript { Status = 500 };

        using var response = await Host.Client.PostAsync("/v1/chat/completions", Json.ChatRequest("up", "hi", stream: true));

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        var error = (await Json.ReadAsync(response))["error"]!;
        Assert.Equal("upstream_error", error["code"]!.GetValue<string>());
        Assert.Contains("'up'", error["message"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal("3", response.Headers.GetValues("X-Gateway-Attempts").Single());
    }

    [Fact]
    public async Task CookiesAnUpstreamSets_NeverRideOnLaterCallersRequests()
    {
        Upstream.Enqueue(new UpstreamScript { Headers = new Dictionary<string, string> { ["Set-Cookie"] = "lb=replica-7; Path=/" } });

        using (var first = await Host.Client.PostAsync("/v1/chat/completions", Json.ChatRequest("up", "first caller", stream: true)))
        {
            Assert.Equal("first caller", Sse.Text(await Sse.ReadAllDataAsync(first)));
        }

        using var second = await Host.Client.PostAsync("/v1/chat/completions", Json.ChatRequest("up", "second caller", stream: false));

        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        Assert.Equal(["", ""], Upstream.Requests.Select(request => request.Cookie));
    }

    [Fact]
    public async Task UpstreamRedirect_IsReportedNotFollowed()
    {
        Upstream.DefaultScript = new UpstreamScript
        {
            Status = 307,
            Headers = new Dictionary<string, string> { ["Location"] = Upstream.BaseUrl + "/chat/completions" },
        };

        using var response = await Host.Client.PostAsync("/v1/chat/completions", Json.ChatRequest("up", "hi", stream: true));

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Equal("upstream_error", (await Json.ReadAsync(response))["error"]!["code"]!.GetValue<string>());
        Assert.Single(Upstream.Requests);
    }

    [Fact]
    public async Task UpstreamRejectsOurKey_Returns502UpstreamAuthFailedWithoutTheKey()
    {
        Upstream.Enqueue(new UpstreamScript
        {
            Status = 401,
            ErrorBody = "{\"error\":{\"message\":\"Incorrect API key provided: " + FakeUpstream.ApiKey + "\"}}",
        });

        using var response = await Host.Client.PostAsync("/v1/chat/completions", Json.ChatRequest("up", "hi", stream: false));

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        var body = await response.Content.ReadAsStringAsync();
        Assert.Equal("upstream_auth_failed", JsonNode.Parse(body)!["error"]!["code"]!.GetValue<string>());
        Assert.DoesNotContain(FakeUpstream.ApiKey, body, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task AProxyOnTheWayOutAsksForCredentials_Is502UpstreamAuthFailed_NotA407ForTheCaller(bool stream)
    {
        // Passed on as it came (until 2026-12-06), a 407 told the caller's HTTP client that its own proxy wanted credentials.
        Upstream.Enqueue(new UpstreamScript { Status = 407, ErrorBody = "<html>Proxy Authentication Required</html>" });

        using var response = await Host.Client.PostAsync("/v1/chat/completions", Json.ChatRequest("up", "hi", stream));

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        var error = (await Json.ReadAsync(response))["error"]!;
        Assert.Equal("upstream_auth_failed", error["code"]!.GetValue<string>());
        Assert.Equal("A proxy between the gateway and provider 'upstream' asks for credentials (HTTP 407).", error["message"]!.GetValue<string>());
        Assert.Single(Upstream.Requests);
    }

    [Fact]
    public async Task UpstreamRejectsTheRequest_PassesItsStatusAndMessageOn()
    {
        Upstream.Enqueue(new UpstreamScript
        {
            Status = 422,
            ErrorBody = """{"error":{"message":"temperature too spicy","type":"invalid_request_error","param":"temperature","code":"bad_temperature"}}""",
        });

        using var response = await Host.Client.PostAsync("/v1/chat/completions", Json.ChatRequest("up", "hi", stream: true));

        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        var error = (await Json.ReadAsync(response))["error"]!;
        Assert.Equal("temperature too spicy", error["message"]!.GetValue<string>());
        Assert.Equal("bad_temperature", error["code"]!.GetValue<string>());
        Assert.Equal("temperature", error["param"]!.GetValue<string>());
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task AnUpstreamRejectionQuotingTheWholeRequest_IsPassedOnCapped(bool stream)
    {
        var quoted = new string('q', 3_000_000);
        Upstream.Enqueue(new UpstreamScript { Status = 400, ErrorBody = $$$"""{"error":{"message":"{{{quoted}}}","type":"invalid_request_error"}}""" });

        using var response = await Host.Client.PostAsync("/v1/chat/completions", Json.ChatRequest("up", "hi", stream));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var message = (await Json.ReadAsync(response))["error"]!["message"]!.GetValue<string>();
        Assert.Equal(new string('q', 4096) + "… (2995904 more characters)", message);
    }

    private static readonly Dictionary<string, string> ServedAsOpenAiSaysIt = new()
    {
        ["service_tier"] = "\"default\"",
        ["system_fingerprint"] = "\"fp_44709d6fcb\"",
    };

    private static HttpContent FlexRequest(bool stream) => Json.Body(
        $$"""{"model":"up","stream":{{(stream ? "true" : "false")}},"stream_options":{{(stream ? """{"include_usage":true}""" : "null")}},"service_tier":"flex","seed":7,"messages":[{"role":"user","content":"relay every word"}]}""");

    /// <summary>
    /// The tier that served the answer (OpenAI bills by it, and may serve another than the one asked for) and the
    /// backend's fingerprint (which a caller using <c>seed</c> compares) are passed on where OpenAI writes them: on every
    /// chunk, the role chunk, the finish chunk and the usage chunk too. Until 2026-12-08 neither reached the caller.
    /// </summary>
    [Fact]
    public async Task Stream_TheUpstreamsServiceTierAndFingerprint_AreOnEveryChunk_AsOpenAiWritesThem()
    {
        Upstream.Enqueue(new UpstreamScript { Members = ServedAsOpenAiSaysIt });

        using var response = await Host.Client.PostAsync("/v1/chat/completions", FlexRequest(stream: true));

        var data = await Sse.ReadAllDataAsync(response);
        Assert.Equal("relay every word", Sse.Text(data));
        Assert.Equal(6, data.Count); // the role chunk with the first word, two words, the finish, the usage, [DONE]
        Assert.All(data.SkipLast(1), chunk => Assert.Contains(
            "\"model\":\"up\",\"service_tier\":\"default\",\"system_fingerprint\":\"fp_44709d6fcb\",\"choices\":", chunk, StringComparison.Ordinal));
        Assert.Equal("flex", Assert.Single(Upstream.Requests).Json["service_tier"]!.GetValue<string>());
    }

    [Fact]
    public async Task NonStreaming_TheUpstreamsServiceTierAndFingerprint_ArePassedOn_AsOpenAiWritesThem()
    {
        Upstream.Enqueue(new UpstreamScript { Members = ServedAsOpenAiSaysIt });

        using var response = await Host.Client.PostAsync("/v1/chat/completions", FlexRequest(stream: false));

        var body = await response.Content.ReadAsStringAsync();
        Assert.Equal("relay every word", JsonNode.Parse(body)!["choices"]![0]!["message"]!["content"]!.GetValue<string>());
        Assert.EndsWith("\"total_tokens\":6},\"service_tier\":\"default\",\"system_fingerprint\":\"fp_44709d6fcb\"}", body, StringComparison.Ordinal);
    }

    /// <summary>
    /// An upstream that sends neither (Ollama's older builds, vLLM, the simulated models) or sends them as null: the
    /// answer has neither member, as OpenAI's clients take an optional one; nothing is made up.
    /// </summary>
    [Theory]
    [InlineData(true, false)]
    [InlineData(false, false)]
    [InlineData(true, true)]
    [InlineData(false, true)]
    public async Task AnUpstreamThatSaysNeither_OrNull_GetsAnAnswerWithNeither(bool stream, bool asNull)
    {
        Upstream.Enqueue(new UpstreamScript
        {
            Members = asNull ? new Dictionary<string, string> { ["service_tier"] = "null", ["system_fingerprint"] = "null" } : null,
        });

        using var response = await Host.Client.PostAsync("/v1/chat/completions", FlexRequest(stream));

        var body = await response.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("relay", body, StringComparison.Ordinal);
        Assert.DoesNotContain("service_tier", body, StringComparison.Ordinal);
        Assert.DoesNotContain("system_fingerprint", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task NonStreaming_ThroughTheUpstream()
    {
        using var response = await Host.Client.PostAsync("/v1/chat/completions", Json.ChatRequest("up", "whole answer", stream: false));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var completion = await Json.ReadAsync(response);
        Assert.Equal("whole answer", completion["choices"]![0]!["message"]!["content"]!.GetValue<string>());
        Assert.Equal(2, completion["usage"]!["completion_tokens"]!.GetValue<int>());
    }

    [Theory]
    [InlineData(null, "max_completion_tokens", "max_tokens")]
    [InlineData("", "max_completion_tokens", "max_tokens")]
    [InlineData("max_tokens", "max_tokens", "max_completion_tokens")]
    public async Task TheCompletionCap_GoesUpstreamUnderTheProvidersName_WhateverTheCallerCalledIt_AndAMessagesNameGoesToo(
        string? maxTokensField, string sent, string notSent)
    {
        var settings = GatewayHost.WithUpstream(GatewayHost.SimulatedSettings(), Upstream);
        if (maxTokensField is not null)
        {
            settings["Gateway:Providers:upstream:MaxTokensField"] = maxTokensField;
        }

        await using var gateway = await GatewayHost.StartAsync(settings);
        const string flow = """{"flow":{"nodes":[{"id":"in","type":"input"},{"id":"ask","type":"llm","model":"up","prompt":"in","maxTokens":7},{"id":"out","type":"output","from":["ask"]}]},"input":"capped"}""";

        foreach (var stream in new[] { true, false })
        {
            foreach (var callersName in new[] { "max_tokens", "max_completion_tokens" })
            {
                var body = $$"""{"model":"up","stream":{{(stream ? "true" : "false")}},"{{callersName}}":7,"messages":[{"role":"user","name":"alice","content":"capped"}]}""";
                using var response = await gateway.Client.PostAsync("/v1/chat/completions", Json.Body(body));
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            }
        }

        using (var run = await gateway.Client.PostAsync("/api/runs", Json.Body(flow)))
        {
            Assert.Equal("completed", (await Json.ReadAsync(run))["status"]!.GetValue<string>());
        }

        Assert.Equal(5, Upstream.Requests.Count);
        Assert.All(Upstream.Requests, request => Assert.Equal(7, request.Json[sent]!.GetValue<int>()));
        Assert.All(Upstream.Requests, request => Assert.Null(request.Json[notSent]));
        Assert.All(Upstream.Requests.SkipLast(1), request => Assert.Equal("alice", request.Json["messages"]![0]!["name"]!.GetValue<string>()));
    }

    [Fact]
    public async Task AStreamThatEndedWell_LeavesItsUpstreamConnectionForTheNextCall()
    {
        for (var i = 0; i < 2; i++)
        {
            using var response = await Host.Client.PostAsync("/v1/chat/completions", Json.ChatRequest("up", "one two", stream: true));
            Assert.Equal("one two", Sse.Text(await Sse.ReadAllDataAsync(response)));
            // Longer than the handler's drain of the body's last bytes: the connection is back in the pool, or closed.
            await Task.Delay(TimeSpan.FromMilliseconds(300));
        }

        var requests = Upstream.Requests.ToArray();
        Assert.Equal(2, requests.Length);
        Assert.Equal(requests[0].ConnectionId, requests[1].ConnectionId);
    }

    [Fact]
    public async Task AClientThatStopsReadingButKeepsItsSocket_IsCutOffAtTheTotalTimeout_AndItsUpstreamCallWithIt()
    {
        // The stream's clocks are read between writes; a client that never reads holds a write. It held the upstream
        // generation for as long as it kept the socket open (300 s under a 20 s total timeout, in a probe).
        await using var upstream = await FakeUpstream.StartAsync();
        upstream.DefaultScript = new UpstreamScript { Tokens = [.. Enumerable.Range(0, 3000).Select(i => $" {i}{new string('x', 8000)}")] };
        var settings = GatewayHost.WithUpstream(GatewayHost.SimulatedSettings(), upstream);
        settings["Gateway:Resilience:TotalTimeoutSeconds"] = "3";
        await using var gateway = await GatewayHost.StartAsync(settings);

        var started = DateTimeOffset.UtcNow;
        using var response = await gateway.Client.SendAsync(
            new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = Json.ChatRequest("up", "hello", stream: true) },
            HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);

        // Never read: the buffers fill, and the gateway's write waits.
        var closed = await Assert.Single(upstream.Requests).Closed.WaitAsync(TimeSpan.FromSeconds(15));
        Assert.True(closed.Aborted, "the upstream response should have been cut off, not finished");
        Assert.InRange(closed.At - started, TimeSpan.FromSeconds(2.5), TimeSpan.FromSeconds(10));
        // The client's connection was cut too: what it reads now ends in a reset, not in an error event and a clean end.
        await using var body = await response.Content.ReadAsStreamAsync();
        await Assert.ThrowsAnyAsync<IOException>(() => body.CopyToAsync(Stream.Null));
    }

    [Fact]
    public async Task ClientDisconnectsMidStream_UpstreamSeesItsConnectionClosedWithinOneSecond()
    {
        var tokens = Enumerable.Range(0, 200).Select(i => $" t{i}").ToArray();
        Upstream.Enqueue(new UpstreamScript { Tokens = tokens, TokenDelay = TimeSpan.FromMilliseconds(50) });

        var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = Json.ChatRequest("up", "x", stream: true) };
        // No draining: disposing the response then closes the connection, as a closed browser tab does.
        using var client = new HttpClient(new SocketsHttpHandler { MaxResponseDrainSize = 0 }) { BaseAddress = Host.BaseAddress };
        var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        var received = 0;
        await foreach (var _ in Sse.ReadAsync(response))
        {
            if (++received == 3)
            {
                break;
            }
        }

        var disconnectedAt = DateTimeOffset.UtcNow;
        response.Dispose();

        var upstreamRequest = Assert.Single(Upstream.Requests);
        var closed = await upstreamRequest.Closed.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.True(closed.Aborted, "the upstream response should have been cut off, not finished");
        Assert.InRange(closed.At - disconnectedAt, TimeSpan.Zero - TimeSpan.FromMilliseconds(50), TimeSpan.FromSeconds(1));
    }
}
