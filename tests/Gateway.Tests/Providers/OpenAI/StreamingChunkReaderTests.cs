using System.Text;
using System.Text.Json;
using Gateway.Providers;
using Gateway.Providers.OpenAI;
using Gateway.Providers.Tools;
using Microsoft.Extensions.AI;

namespace Gateway.Tests.Providers.OpenAI;

public class StreamingChunkReaderTests
{
    private readonly StreamingChunkReader _reader = new();

    private ChatResponseUpdate? Parse(string json) => _reader.Parse("message", Encoding.UTF8.GetBytes(json));

    [Fact]
    public void Chunk_MapsIdModelCreatedRoleAndText()
    {
        var update = Parse("""{"id":"c1","object":"chat.completion.chunk","created":1700000000,"model":"m","choices":[{"index":0,"delta":{"role":"assistant","content":"Hi"},"finish_reason":null}]}""")!;

        Assert.Equal("c1", update.ResponseId);
        Assert.Equal("m", update.ModelId);
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(1_700_000_000), update.CreatedAt);
        Assert.Equal(ChatRole.Assistant, update.Role);
        Assert.Equal("Hi", update.Text);
        Assert.Null(update.FinishReason);
    }

    private static string ServedChunk(string members, string content = "Hi") =>
        $$"""{"id":"c1","object":"chat.completion.chunk","created":1700000000,"model":"m",{{members}}"choices":[{"index":0,"delta":{"content":"{{content}}"},"finish_reason":null}]}""";

    [Fact]
    public void TheServiceTierAndFingerprint_AreRead_AndEveryChunkSharesOneInstanceWhileTheyStayTheSame()
    {
        var first = Parse(ServedChunk("\"service_tier\":\"flex\",\"system_fingerprint\":\"fp_44709d6fcb\","))!;
        var second = Parse(ServedChunk("\"service_tier\":\"flex\",\"system_fingerprint\":\"fp_44709d6fcb\","))!;

        Assert.Equal(new ServedBy("flex", "fp_44709d6fcb"), ServedBy.Of(first));
        Assert.Same(ServedBy.Of(first), ServedBy.Of(second));
    }

    [Fact]
    public void AChunkThatLeavesThemOut_OrSaysNull_KeepsWhatAnEarlierOneSaid_AndAChangeIsTheNewValue()
    {
        var first = Parse(ServedChunk("\"service_tier\":\"default\",\"system_fingerprint\":\"fp_a\","))!;
        var without = Parse(ServedChunk(""))!;
        var nulls = Parse(ServedChunk("\"service_tier\":null,\"system_fingerprint\":null,"))!;
        var changed = Parse(ServedChunk("\"system_fingerprint\":\"fp_b\","))!;
        var finish = Parse("""{"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}""")!;

        Assert.Same(ServedBy.Of(first), ServedBy.Of(without));
        Assert.Same(ServedBy.Of(first), ServedBy.Of(nulls));
        Assert.Equal(new ServedBy("default", "fp_b"), ServedBy.Of(changed));
        Assert.Same(ServedBy.Of(changed), ServedBy.Of(finish));
    }

    [Theory]
    [InlineData("")]
    [InlineData("\"service_tier\":null,\"system_fingerprint\":null,")]
    // Not text: nothing to pass on, and no reason to fail the answer.
    [InlineData("\"service_tier\":{\"name\":\"flex\"},\"system_fingerprint\":7,")]
    public void AStreamThatSaysNeither_CarriesNone(string members)
    {
        var update = Parse(ServedChunk(members))!;

        Assert.Equal("Hi", update.Text);
        Assert.Null(update.RawRepresentation);
    }

    [Fact]
    public void OnlyOneOfThem_IsThatOne()
    {
        Assert.Equal(new ServedBy(null, "b4567-llama.cpp"), ServedBy.Of(Parse(ServedChunk("\"system_fingerprint\":\"b4567-llama.cpp\","))!));
    }

    /// <summary>
    /// Read on every token: once known, the two members cost a chunk nothing more than their absence does (the update
    /// and its contents list are the chunk's own either way).
    /// </summary>
    [Fact]
    public void AChunkWithTheServiceTierAndFingerprint_AllocatesNoMoreThanOneWithout()
    {
        var with = Encoding.UTF8.GetBytes(ServedChunk("\"service_tier\":\"priority\",\"system_fingerprint\":\"fp_44709d6fcb\","));
        var without = Encoding.UTF8.GetBytes(ServedChunk(""));

        Assert.Equal(AllocatedPerChunk(without), AllocatedPerChunk(with));
    }

    private static long AllocatedPerChunk(byte[] chunk)
    {
        var reader = new StreamingChunkReader();
        reader.Parse("", chunk);
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 100; i++)
        {
            reader.Parse("", chunk);
        }

        return (GC.GetAllocatedBytesForCurrentThread() - before) / 100;
    }

    private string Content(string escapedText) =>
        Parse($$"""{"choices":[{"index":0,"delta":{"content":"{{escapedText}}"},"finish_reason":null}]}""")!.Text;

    [Fact]
    public void AnEmojiCutInTwoAcrossChunks_IsJoined_NotAFailure()
    {
        var texts = new[] { Content("smile \\ud83d"), Content("\\ude00 and \\n\\\"more\\\"\\ud83c"), Content("\\udf89!") };

        Assert.Equal(["smile ", "\U0001F600 and \n\"more\"", "\U0001F389!"], texts);
    }

    [Fact]
    public void AHalfWithoutItsPartner_BecomesTheReplacementCharacter()
    {
        var texts = new[] { Content("a\\ude00b"), Content("c\\ud83d"), Content("d") };

        Assert.Equal(["a\uFFFDb", "c", "\uFFFDd"], texts);
    }

    [Theory]
    [InlineData("""{"choices":[{"index":0,"delta":{"content":"A"}}]}""" + "\n" + """{"choices":[{"index":0,"delta":{"content":"B"}}]}""")]
    [InlineData("""{"choices":[{"index":0,"delta":{"content":"A"}}]}garbage""")]
    public void AnEventHoldingMoreThanOneJsonValue_IsMalformed_NotItsFirstValueWithTheRestLost(string data)
    {
        // Two data: lines without a blank line between are one event, their lines joined: "B" was dropped without a word.
        Assert.ThrowsAny<JsonException>(() => Parse(data));
    }

    [Fact]
    public void AFirstHalfStillHeldWhenTheAnswerFinishes_IsTheReplacementCharacter_NotDropped()
    {
        var first = Content("end \\ud83d");
        var last = Parse("""{"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}""")!;

        Assert.Equal(("end ", "\uFFFD"), (first, last.Text));
    }

    [Fact]
    public void ThinkingCutInTwo_IsJoinedApartFromTheAnswer()
    {
        var first = Parse("""{"choices":[{"index":0,"delta":{"reasoning_content":"hm \ud83e","content":"x\ud83d"},"finish_reason":null}]}""")!;
        var second = Parse("""{"choices":[{"index":0,"delta":{"reasoning_content":"\udd14","content":"\ude00"},"finish_reason":null}]}""")!;

        Assert.Equal(("hm ", "x"), (UpdateContents.Reasoning(first), first.Text));
        Assert.Equal(("\U0001F914", "\U0001F600"), (UpdateContents.Reasoning(second), second.Text));
    }

    [Fact]
    public void SameIdOnLaterChunks_IsTheSameString()
    {
        var first = Parse("""{"id":"c1","choices":[]}""")!;
        var second = Parse("""{"id":"c1","choices":[]}""")!;

        Assert.Same(first.ResponseId, second.ResponseId);
    }

    [Fact]
    public void UsageChunk_WithNoChoices_CarriesUsageOnly()
    {
        var update = Parse("""{"choices":[],"usage":{"prompt_tokens":3,"completion_tokens":5,"total_tokens":8,"prompt_tokens_details":{"cached_tokens":0}}}""")!;

        var usage = Assert.IsType<UsageContent>(Assert.Single(update.Contents)).Details;
        Assert.Equal((3L, 5L, 8L), (usage.InputTokenCount!.Value, usage.OutputTokenCount!.Value, usage.TotalTokenCount!.Value));
        Assert.Null(update.CreatedAt);
    }

    private static (int Index, string? Id, string? Name, string? Arguments)[] Calls(ChatResponseUpdate update) =>
        [.. update.Contents.OfType<RawToolCall>().Select(call => (call.Index, call.CallId, call.Name, call.Arguments))];

    [Fact]
    public void ToolCallPieces_AreReadAsTheyCome_ArgumentsAsText()
    {
        var first = Parse("""{"choices":[{"index":0,"delta":{"role":"assistant","content":null,"tool_calls":[{"index":0,"id":"call_a","type":"function","function":{"name":"f","arguments":""}}]}}]}""")!;
        var next = Parse("""{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"a\":\"\ud83d"}}]}}]}""")!;
        var last = Parse("""{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"\ude00\"}"}},{"index":1,"id":"call_b","function":{"name":"g","arguments":"{}"}}]}}]}""")!;

        Assert.Equal([(0, "call_a", "f", "")], Calls(first));
        Assert.Equal("", first.Text);
        Assert.Equal([(0, null, null, "{\"a\":\"")], Calls(next));
        Assert.Equal([(0, null, null, "\U0001F600\"}"), (1, "call_b", "g", "{}")], Calls(last));
    }

    /// <summary>Until the probe of 2026-12-06 each chunk's calls were numbered from 0: two whole calls in two chunks became one call.</summary>
    [Fact]
    public void UnnumberedCallsInChunksOfTheirOwn_AreNumberedAsTheStreamGoes_AndARepeatedIdIsTheSameCall()
    {
        string[] chunks =
        [
            """{"choices":[{"delta":{"tool_calls":[{"id":"c1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":"}}]}}]}""",
            """{"choices":[{"delta":{"tool_calls":[{"id":"c1","function":{"arguments":"\"Paris\"}"}}]}}]}""",
            """{"choices":[{"delta":{"tool_calls":[{"id":"c2","type":"function","function":{"name":"get_time","arguments":"{}"}}]}}]}""",
            """{"choices":[{"delta":{"tool_calls":[{"function":{"arguments":" "}}]}}]}""",
        ];
        var updates = chunks.Select(chunk => Calls(Parse(chunk)!)).ToArray();

        Assert.Equal(
            [[(0, "c1", "get_weather", "{\"city\":")], [(0, null, null, "\"Paris\"}")], [(1, "c2", "get_time", "{}")], [(1, null, null, " ")]],
            updates);
    }

    /// <summary>
    /// A call's id and name go on once, on its first piece: the Python SDK joins what it is sent again ("c1c1"). A call
    /// that came without an id gets one: the SDKs' stream helpers require it, and the caller sends it back.
    /// </summary>
    [Fact]
    public void ACallsIdAndName_GoOnOnce_AndACallWithoutAnId_GetsOne()
    {
        string[] chunks =
        [
            """{"choices":[{"delta":{"tool_calls":[{"index":0,"id":"c1","type":"function","function":{"name":"f","arguments":"{"}}]}}]}""",
            """{"choices":[{"delta":{"tool_calls":[{"index":0,"id":"c1","type":"function","function":{"name":"f","arguments":"}"}}]}}]}""",
            """{"choices":[{"delta":{"tool_calls":[{"index":1,"id":"","function":{"name":"g","arguments":"{}"}}]}}]}""",
        ];
        var pieces = chunks.Select(chunk => Assert.Single(Calls(Parse(chunk)!))).ToArray();

        Assert.Equal((0, "c1", "f", "{"), pieces[0]);
        Assert.Equal((0, null, null, "}"), pieces[1]);
        Assert.Matches("^call_[0-9a-f]{24}$", pieces[2].Id);
        Assert.Equal((1, "g", "{}"), (pieces[2].Index, pieces[2].Name, pieces[2].Arguments));
    }

    /// <summary>
    /// DashScope and DeepSeek send <c>"id":""</c> and <c>"name":""</c> on every piece after a call's first. The name went
    /// on as <c>""</c>, which a client that takes each piece's name (deepseek-harness) made the call's ("unknown tool"),
    /// and without an index each piece started a call of its own, its arguments cut into as many calls.
    /// </summary>
    [Fact]
    public void AnEmptyIdAndNameOnALaterPiece_AreNone()
    {
        string[] chunks =
        [
            """{"choices":[{"delta":{"tool_calls":[{"index":0,"id":"c1","type":"function","function":{"name":"f","arguments":""}}]}}]}""",
            """{"choices":[{"delta":{"tool_calls":[{"index":0,"id":"","type":"function","function":{"name":"","arguments":"{}"}}]}}]}""",
            """{"choices":[{"delta":{"tool_calls":[{"id":"c2","type":"function","function":{"name":"g","arguments":"{\"a\":"}}]}}]}""",
            """{"choices":[{"delta":{"tool_calls":[{"id":"","type":"function","function":{"name":"","arguments":"1}"}}]}}]}""",
        ];
        var pieces = chunks.Select(chunk => Assert.Single(Calls(Parse(chunk)!))).ToArray();

        Assert.Equal([(0, "c1", "f", ""), (0, null, null, "{}"), (1, "c2", "g", "{\"a\":"), (1, null, null, "1}")], pieces);
    }

    /// <summary>A character cut in two at the end of one call's arguments is that call's, not the start of the next call's.</summary>
    [Fact]
    public void ACharacterCutInTwo_IsJoinedWithinItsOwnCall()
    {
        string[] chunks =
        [
            """{"choices":[{"delta":{"tool_calls":[{"index":0,"id":"a","function":{"name":"f","arguments":"\"\ud83d"}}]}}]}""",
            """{"choices":[{"delta":{"tool_calls":[{"index":1,"id":"b","function":{"name":"g","arguments":"{}"}}]}}]}""",
            """{"choices":[{"delta":{"tool_calls":[{"index":0,"function":{"arguments":"\ude00\""}}]}}]}""",
        ];
        var pieces = chunks.Select(chunk => Assert.Single(Calls(Parse(chunk)!))).ToArray();

        Assert.Equal(["\"", "{}", "\U0001F600\""], pieces.Select(piece => piece.Arguments));
    }

    [Fact]
    public void WholeCallsWithoutAnIndex_AreNumberedByTheirPlace_AndArgumentsGivenAsAnObject_AreItsText()
    {
        // Older Ollama: whole calls, no index, and the arguments as the object itself.
        var update = Parse("""{"choices":[{"index":0,"message":{"role":"assistant","content":"","tool_calls":[{"function":{"name":"f","arguments":{"city":"Zürich"}}},{"id":"c2","function":{"name":"g","arguments":null}}]},"finish_reason":"tool_calls"}]}""")!;

        var calls = Calls(update);
        Assert.Equal([(0, "f", """{"city":"Zürich"}"""), (1, "g", null)], calls.Select(call => (call.Index, call.Name, call.Arguments)));
        Assert.StartsWith("call_", calls[0].Id);
        Assert.Equal("c2", calls[1].Id);
        Assert.Equal("tool_calls", update.FinishReason!.Value.Value);
    }

    [Theory]
    [InlineData("stop", "stop")]
    [InlineData("length", "length")]
    [InlineData("content_filter", "content_filter")]
    [InlineData("function_call", "tool_calls")]
    [InlineData("tool_calls", "tool_calls")]
    // Outside OpenAI's set: what real servers send.
    [InlineData("eos", "stop")]
    [InlineData("end_turn", "stop")]
    [InlineData("max_tokens", "length")]
    [InlineData("model_length", "length")]
    public void FinishReason_IsMapped(string upstream, string expected)
    {
        var update = Parse($$"""{"choices":[{"delta":{},"finish_reason":"{{upstream}}"}]}""")!;

        Assert.Equal(expected, update.FinishReason!.Value.Value);
        Assert.True(_reader.SawFinishReason);
    }

    /// <summary>A first half at the end of the last chunk's own text is U+FFFD after that text (it was put before it).</summary>
    [Fact]
    public void AHalfAtTheEndOfTheFinishingChunksText_IsReplacedAfterIt()
    {
        var update = Parse("""{"choices":[{"delta":{"content":"ok \ud83d"},"finish_reason":"stop"}]}""")!;

        Assert.Equal("ok \ufffd", update.Text);
    }

    /// <summary>
    /// Reasoning and a refusal are read as the first content of their kind: a half held at the end joins the finishing
    /// update's own text of that kind (as a second content of the kind, it was never read).
    /// </summary>
    [Fact]
    public void AHalfAtTheEndOfTheFinishingChunksReasoningOrRefusal_IsReplacedAfterIt()
    {
        Parse("""{"choices":[{"delta":{"reasoning_content":"think\ud83d","refusal":"no\ud83d"},"finish_reason":null}]}""");
        var last = Parse("""{"choices":[{"delta":{"reasoning_content":"more\ud83d","refusal":"pe\ud83d"},"finish_reason":"stop"}]}""")!;

        Assert.Equal("\ufffdmore\ufffd", UpdateContents.Reasoning(last));
        Assert.Equal("\ufffdpe\ufffd", RefusalContent.Of(last.Contents));
    }

    /// <summary>Ollama and SGLang send "" on every chunk where OpenAI sends null: no reason, until [DONE] ends such a stream as stopped.</summary>
    [Fact]
    public void AnEmptyFinishReason_IsNoReason_UntilDoneEndsTheStreamAsStopped()
    {
        var update = Parse("""{"choices":[{"delta":{"content":"hi"},"finish_reason":""}]}""")!;

        Assert.Null(update.FinishReason);
        Assert.False(_reader.SawFinishReason);
        Assert.Null(Parse("[DONE]"));
        Assert.Equal(ChatFinishReason.Stop, _reader.FinishAtDone()!.FinishReason);
        Assert.True(_reader.SawFinishReason);
    }

    [Fact]
    public void AnEmptyFinishReason_ThenARealOne_IsTheRealOne_AndDoneAddsNothing()
    {
        Parse("""{"choices":[{"delta":{"content":"hi"},"finish_reason":""}]}""");
        var last = Parse("""{"choices":[{"delta":{},"finish_reason":"length"}]}""")!;

        Assert.Equal(ChatFinishReason.Length, last.FinishReason);
        Assert.Null(_reader.FinishAtDone());
    }

    [Fact]
    public void UsageWithANullCount_IsReadWithoutThatCount_NotTakenForABrokenChunk()
    {
        var update = Parse("""{"choices":[],"usage":{"prompt_tokens":null,"completion_tokens":5,"total_tokens":null}}""")!;

        var usage = Assert.IsType<UsageContent>(Assert.Single(update.Contents)).Details;
        Assert.Null(usage.InputTokenCount);
        Assert.Equal(5L, usage.OutputTokenCount);
        Assert.Null(usage.TotalTokenCount);
    }

    [Fact]
    public void NumbersWrittenWithAFraction_AreReadAsTheirWholePart_NotTakenForABrokenChunk()
    {
        var chunk = Parse("""{"created":1717000000.5,"choices":[{"delta":{"content":"Hi"}}]}""")!;
        var usage = Parse("""{"choices":[],"usage":{"prompt_tokens":7.0,"completion_tokens":5e0,"total_tokens":12.0}}""")!;

        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(1_717_000_000), chunk.CreatedAt);
        var details = Assert.IsType<UsageContent>(Assert.Single(usage.Contents)).Details;
        Assert.Equal((7L, 5L, 12L), (details.InputTokenCount!.Value, details.OutputTokenCount!.Value, details.TotalTokenCount!.Value));
    }

    [Theory]
    [InlineData("1717000000123")]
    [InlineData("-5")]
    [InlineData("1e300")]
    public void ACreatedTimeOutOfRange_IsNoTime_NotABrokenChunk(string created)
    {
        var chunk = Parse($$$"""{"created":{{{created}}},"choices":[{"delta":{"content":"Hi"}}]}""")!;

        Assert.Null(chunk.CreatedAt);
        Assert.Equal("Hi", chunk.Text);
    }

    [Fact]
    public void EscapedFinishReason_IsMappedByItsValue()
    {
        var update = Parse("""{"choices":[{"delta":{},"finish_reason":"\u006cength"}]}""")!;

        Assert.Equal(ChatFinishReason.Length, update.FinishReason);
        Assert.Equal(UpstreamFailure.StreamError, Assert.Throws<UpstreamException>(
            () => Parse("""{"choices":[{"delta":{},"finish_reason":"\u0065rror"}]}""")).Failure);
    }

    [Fact]
    public void NullFinishReasons_AreNotAFinish()
    {
        Parse("""{"choices":[{"delta":{"content":"a"},"finish_reason":null}]}""");

        Assert.False(_reader.SawFinishReason);
    }

    [Fact]
    public void FinishReasonError_IsAStreamError()
    {
        var exception = Assert.Throws<UpstreamException>(() => Parse("""{"choices":[{"delta":{},"finish_reason":"error"}]}"""));

        Assert.Equal(UpstreamFailure.StreamError, exception.Failure);
    }

    [Fact]
    public void FinishReasonAbort_AsVllmEndsARequestItsEngineStopped_IsAStreamError_NotAStop()
    {
        var exception = Assert.Throws<UpstreamException>(() => Parse("""{"choices":[{"delta":{"content":"half"},"finish_reason":"abort"}]}"""));

        Assert.Equal(UpstreamFailure.StreamError, exception.Failure);
    }

    [Fact]
    public void FinishReasonError_InALaterChoice_IsAStreamErrorToo()
    {
        var exception = Assert.Throws<UpstreamException>(
            () => Parse("""{"choices":[{"delta":{"content":"a"}},{"delta":{},"finish_reason":"error"}]}"""));

        Assert.Equal(UpstreamFailure.StreamError, exception.Failure);
    }

    [Theory]
    [InlineData("""{"error":{"message":"model overloaded","code":"overloaded"}}""", "model overloaded", "overloaded")]
    [InlineData("""{"error":{"message":"slow down","code":429}}""", "slow down", "429")]
    [InlineData("""{"error":"it broke"}""", "it broke", null)]
    [InlineData("""{"id":"c1","choices":[],"error":{"type":"server_error"}}""", "(no message)", null)]
    public void ErrorMember_IsAStreamErrorWithItsMessageAndCode(string json, string message, string? code)
    {
        var exception = Assert.Throws<UpstreamException>(() => Parse(json));

        Assert.Equal(UpstreamFailure.StreamError, exception.Failure);
        Assert.Equal($"The upstream reported an error: {message}", exception.Message);
        Assert.Equal(code, exception.UpstreamCode);
    }

    [Fact]
    public void ErrorMemberAfterAnErrorFinish_GivesItsMessageAndCode()
    {
        var exception = Assert.Throws<UpstreamException>(
            () => Parse("""{"choices":[{"delta":{},"finish_reason":"error"}],"error":{"message":"rate limited","code":"429"}}"""));

        Assert.Equal("The upstream reported an error: rate limited", exception.Message);
        Assert.Equal("429", exception.UpstreamCode);
    }

    [Theory]
    [InlineData("""{"error":{"message":"overloaded","code":"busy"}}""", "overloaded", "busy")]
    [InlineData("overloaded, try later", "overloaded, try later", null)]
    [InlineData("""{"status":"bad"}""", """{"status":"bad"}""", null)]
    public void ErrorEvent_IsAStreamErrorWhateverItsPayload(string payload, string message, string? code)
    {
        var exception = Assert.Throws<UpstreamException>(() => _reader.Parse("error", Encoding.UTF8.GetBytes(payload)));

        Assert.Equal(UpstreamFailure.StreamError, exception.Failure);
        Assert.Equal($"The upstream reported an error: {message}", exception.Message);
        Assert.Equal(code, exception.UpstreamCode);
    }

    [Fact]
    public void LaterChoicesThatAreNotObjects_AreSkipped()
    {
        var update = Parse("""{"choices":[{"delta":{"content":"a"}},null,7]}""")!;

        Assert.Equal("a", update.Text);
    }

    [Fact]
    public void NullErrorMember_IsNoError()
    {
        var update = Parse("""{"error":null,"choices":[{"delta":{"content":"ok"}}]}""")!;

        Assert.Equal("ok", update.Text);
    }

    [Fact]
    public void AnErrorObjectInsideText_IsJustText()
    {
        var update = Parse("""{"choices":[{"delta":{"content":"say \"error\": {}"},"finish_reason":"stop"}]}""")!;

        Assert.Equal("say \"error\": {}", update.Text);
        Assert.Equal(ChatFinishReason.Stop, update.FinishReason);
    }

    [Fact]
    public void OnlyTheFirstChoice_IsRead()
    {
        var update = Parse("""{"choices":[{"delta":{"content":"a"}},{"delta":{"content":"b"}}]}""")!;

        Assert.Equal("a", update.Text);
    }

    [Theory]
    [InlineData("[DONE]")]
    [InlineData("[DONE] ")]
    [InlineData("[DONE]\t")]
    public void Done_IsNull(string done) => Assert.Null(Parse(done));

    [Theory]
    [InlineData("""{"object":"error","message":"CUDA out of memory","type":"InternalServerError","code":500}""", "CUDA out of memory")]
    [InlineData("""{"message":"ignored until the object says error","object":"error"}""", "ignored until the object says error")]
    [InlineData("""{"object":"error"}""", "(no message)")]
    [InlineData("""{"object":"error","message":""}""", "(no message)")]
    public void AFlatErrorObject_AsOlderVllmSendsMidStream_IsAStreamErrorWithItsMessage(string json, string message)
    {
        var exception = Assert.Throws<UpstreamException>(() => Parse(json));

        Assert.Equal(UpstreamFailure.StreamError, exception.Failure);
        Assert.Equal($"The upstream reported an error: {message}", exception.Message);
    }

    [Theory]
    [InlineData("reasoning_content")]
    [InlineData("reasoning")]
    public void ReasoningDeltas_AreReasoning_NotText(string field)
    {
        var update = Parse($$$"""{"choices":[{"delta":{"role":"assistant","content":null,"{{{field}}}":"Hmm,"}}]}""")!;

        Assert.Equal("", update.Text);
        Assert.Equal("Hmm,", Assert.Single(update.Contents.OfType<TextReasoningContent>()).Text);
    }

    [Fact]
    public void ThinkingUnderBothNames_IsReadOnce_AndACharacterCutBetweenTwoChunksIsJoined()
    {
        // vLLM 0.11 to 0.15 wrote every delta's thinking under both names. Read twice, the first half of a character held
        // back for the next chunk was put before the copy, and the thinking passed on held a U+FFFD.
        var first = Parse("""{"choices":[{"delta":{"reasoning":"\ud83d","reasoning_content":"\ud83d"}}]}""")!;
        var second = Parse("""{"choices":[{"delta":{"reasoning":"\ude00 ok","reasoning_content":"\ude00 ok"}}]}""")!;
        var empty = Parse("""{"choices":[{"delta":{"reasoning_content":"","reasoning":"then"}}]}""")!;

        Assert.Equal("", UpdateContents.Reasoning(first));
        Assert.Equal("\U0001F600 ok", Assert.Single(second.Contents.OfType<TextReasoningContent>()).Text);
        Assert.Equal("then", UpdateContents.Reasoning(empty));
    }

    [Fact]
    public void AChunkWithThinkingAndText_CarriesBoth()
    {
        var update = Parse("""{"choices":[{"delta":{"reasoning_content":"so,","content":"Yes"}}]}""")!;

        Assert.Equal("Yes", update.Text);
        Assert.Equal("so,", Assert.Single(update.Contents.OfType<TextReasoningContent>()).Text);
    }

    private ChatResponseUpdate Parts(string parts) =>
        Parse($$"""{"choices":[{"index":0,"delta":{"content":{{parts}}},"finish_reason":null}]}""")!;

    [Fact]
    public void ContentAsParts_AsMagistralStreamsIt_IsThinkingThenText()
    {
        // Mistral's reasoning models: thinking parts while the model thinks, then text parts (BerriAI/litellm#16272).
        var thinking = new[]
        {
            Parts("""[{"type":"thinking","thinking":[{"type":"text","text":"The user"}]}]"""),
            Parts("""[{"type":"thinking","thinking":[{"type":"text","text":" greets."}]}]"""),
        };
        var answer = new[] { Parts("""[{"type":"text","text":"Hello"}]"""), Parts("""[{"type":"text","text":"!"}]""") };

        Assert.Equal(["The user", " greets."], thinking.Select(UpdateContents.Reasoning));
        Assert.All(thinking, update => Assert.Equal("", update.Text));
        Assert.Equal(["Hello", "!"], answer.Select(update => update.Text));
        Assert.All(answer, update => Assert.Empty(update.Contents.OfType<TextReasoningContent>()));
    }

    [Fact]
    public void ACharacterCutBetweenTwoChunksOfParts_IsJoined_InTheThinkingAndInTheText()
    {
        var first = Parts("""[{"type":"thinking","thinking":[{"type":"text","text":"hm \ud83e"}]}]""");
        var second = Parts("""[{"type":"thinking","thinking":[{"type":"text","text":"\udd14"}]},{"type":"text","text":"x\ud83d"}]""");
        var third = Content("\\ude00 ok"); // a string after parts: the same text

        Assert.Equal(("hm ", ""), (UpdateContents.Reasoning(first), first.Text));
        Assert.Equal(("\U0001F914", "x"), (UpdateContents.Reasoning(second), second.Text));
        Assert.Equal("\U0001F600 ok", third);
    }

    [Fact]
    public void AnEmptyListOfParts_IsNoText_NotABrokenChunk()
    {
        var update = Parts("[]");

        Assert.Equal("", update.Text);
        Assert.DoesNotContain(update.Contents, content => content is TextContent or TextReasoningContent);
    }

    [Fact]
    public void TextPartsAlone_AreTheText_Joined()
    {
        Assert.Equal("Hi there", Parts("""[{"type":"text","text":"Hi "},{"type":"text","text":"there"}]""").Text);
    }

    [Fact]
    public void APartsTypeAfterItsText_ThinkingAsAString_AndPartsOfOtherTypes_AreReadAsTheyAre()
    {
        var update = Parts("""
            [{"text":"A","type":"text"},{"type":"reference","reference_ids":[1]},{"type":"image_url","image_url":{"url":"x"}},
             {"thinking":"so","type":"thinking"},{"type":"text","text":null},"stray",{"type":"text","text":"B"}]
            """);

        Assert.Equal(("AB", "so"), (update.Text, UpdateContents.Reasoning(update)));
    }

    [Fact]
    public void AnObjectMemberThatIsNotText_IsSkipped_NotReadInto()
    {
        var update = Parse("""{"object":{"kind":"chunk","choices":[]},"choices":[{"delta":{"content":"ok"}}]}""")!;

        Assert.Equal("ok", update.Text);
    }

    [Fact]
    public void AReasoningMemberThatIsNotText_IsSkipped()
    {
        var update = Parse("""{"choices":[{"delta":{"reasoning":{"effort":"high"},"content":"ok"}}]}""")!;

        Assert.Equal("ok", update.Text);
        Assert.Empty(update.Contents.OfType<TextReasoningContent>());
    }

    [Theory]
    [InlineData("""{"choices": [ {"delta": """)]
    [InlineData("""{"choices":"oops"}""")]
    [InlineData("""[1,2]""")]
    [InlineData("""{"choices":[{"delta":{},"finish_reason":{"why":"stop"}}]}""")]
    [InlineData("""{"choices":[{"delta":{},"finish_reason":1}]}""")]
    public void MalformedChunk_Throws(string json)
    {
        var exception = Record.Exception(() => Parse(json));

        Assert.True(exception is JsonException or InvalidOperationException, exception?.GetType().Name);
    }
}
