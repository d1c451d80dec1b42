using System.Text.Json.Nodes;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Resilience;

/// <summary>
/// Reasoning models (DeepSeek-R1 on vLLM or SGLang, Ollama's thinking models) stream their thinking before the answer,
/// often for longer than the first-token timeout: that is a healthy stream, and the thinking is its first token.
/// </summary>
public sealed class ReasoningStreamTests : IAsyncLifetime
{
    private static readonly string[] Thoughts = ["Let", " me", " think", "."];
    private FaultBed _bed = null!;

    public async Task InitializeAsync() => _bed = await FaultBed.StartAsync(firstTokenTimeoutSeconds: 1, idleTimeoutSeconds: 1);

    public async Task DisposeAsync() => await _bed.DisposeAsync();

    /// <summary>1.6 s of thinking, past the first-token timeout of 1 s, each part well within the idle timeout.</summary>
    private static UpstreamScript ThinksThenAnswers(string field) => new()
    {
        Tokens = ["Hello", " world"],
        Thinking = (Thoughts, TimeSpan.FromMilliseconds(400), field),
    };

    [Theory]
    [InlineData("reasoning_content")]
    [InlineData("reasoning")]
    public async Task ThinkingLongerThanTheFirstTokenTimeout_IsStreamedAsReasoningContent_AndNotRetried(string field)
    {
        _bed.Primary.Enqueue(ThinksThenAnswers(field));

        var (response, data) = await _bed.StreamAsync("solo", "hi");

        FaultBed.AssertCompleted(data, "Hello world");
        var deltas = data.SkipLast(1).Select(d => JsonNode.Parse(d)!["choices"]![0]!["delta"]!).ToList();
        Assert.Equal("assistant", deltas[0]["role"]!.GetValue<string>());
        Assert.Equal("Let me think.", string.Concat(deltas.Select(d => d["reasoning_content"]?.GetValue<string>())));
        // The thinking comes first, each part as it was thought, in chunks of its own.
        Assert.Equal(Thoughts, deltas.Take(4).Select(d => d["reasoning_content"]!.GetValue<string>()));
        Assert.All(deltas.Skip(1).Take(3), d => Assert.Null(d["content"]));
        Assert.Equal("1", FaultBed.Attempts(response));
        Assert.Single(_bed.Primary.Requests);
    }

    [Fact]
    public async Task ANodeOfAReasoningModel_OutputsTheAnswerAlone_AfterThinkingPastTheFirstTokenTimeout()
    {
        _bed.Primary.Enqueue(ThinksThenAnswers("reasoning_content"));

        var (_, events) = await RunClient.RunAsync(_bed.Gateway.Client, "/api/runs", """
            {"flow":{"nodes":[{"id":"in","type":"input"},{"id":"say","type":"llm","model":"solo","prompt":"in"},
              {"id":"out","type":"output","from":["say"]}]},"input":"hi"}
            """);

        Assert.Equal("run.completed", events[^1].Name);
        Assert.DoesNotContain(events, e => e.Name == "node.retrying");
        Assert.Equal("Hello world", string.Concat(events.Where(e => e.Name == "token").Select(e => e.Data["text"]!.GetValue<string>())));
        Assert.Equal("Hello world", events[^1].Data["outputs"]!["say"]!.GetValue<string>());
        Assert.Single(_bed.Primary.Requests);
    }

    private static UpstreamScript DropsWhileThinking() => new()
    {
        Tokens = ["never"],
        Thinking = (["Hmm,"], TimeSpan.FromMilliseconds(50), "reasoning_content"),
        Stall = (0, TimeSpan.FromMilliseconds(300)), // so that the thinking is read before the reset, which would drop it
        DropAfterTokens = 0,
    };

    [Fact]
    public async Task ANodeWhoseModelDropsWhileThinking_IsRetried_AsItsThinkingWentNowhere()
    {
        _bed.Primary.Enqueue(DropsWhileThinking(), ThinksThenAnswers("reasoning_content"));

        var (_, events) = await RunClient.RunAsync(_bed.Gateway.Client, "/api/runs", """
            {"flow":{"nodes":[{"id":"in","type":"input"},{"id":"say","type":"llm","model":"solo","prompt":"in"},
              {"id":"out","type":"output","from":["say"]}]},"input":"hi"}
            """);

        Assert.Equal("run.completed", events[^1].Name);
        var retrying = Assert.Single(events, e => e.Name == "node.retrying");
        // A retry goes to the same deployment.
        Assert.Equal(("p0", "solo-model", false), (
            retrying.Data["provider"]!.GetValue<string>(), retrying.Data["model"]!.GetValue<string>(), retrying.Data["fallback"]!.GetValue<bool>()));
        Assert.Equal("Hello world", events[^1].Data["outputs"]!["say"]!.GetValue<string>());
        Assert.Equal(2, _bed.Primary.Requests.Count);
        // The answer's reported usage (3 + 2) and what the dropped attempt spent, which no usage reports: the prompt
        // ("hi", a token) and a token of thinking. Until 2026-12-06 (later) the dropped attempt was free.
        var usage = events[^1].Data["nodes"]!["say"]!["usage"]!;
        Assert.Equal((4, 3), (usage["inputTokens"]!.GetValue<int>(), usage["outputTokens"]!.GetValue<int>()));
    }

    [Fact]
    public async Task ANodeWhoseEveryAttemptDropsWhileThinking_FailsCountingWhatTheyThought()
    {
        _bed.Primary.Enqueue(DropsWhileThinking(), DropsWhileThinking(), DropsWhileThinking());

        var (_, events) = await RunClient.RunAsync(_bed.Gateway.Client, "/api/runs", """
            {"flow":{"nodes":[{"id":"in","type":"input"},{"id":"say","type":"llm","model":"solo","prompt":"in"},
              {"id":"out","type":"output","from":["say"]}]},"input":"hi"}
            """);

        Assert.Equal("run.failed", events[^1].Name);
        Assert.Equal(3, _bed.Primary.Requests.Count);
        // Three prompts and three tokens of thinking, paid for; until 2026-12-06 (later) the node had no usage at all.
        var usage = events[^1].Data["nodes"]!["say"]!["usage"]!;
        Assert.Equal((3, 3), (usage["inputTokens"]!.GetValue<int>(), usage["outputTokens"]!.GetValue<int>()));
    }

    [Fact]
    public async Task AV1StreamWhoseModelDropsWhileThinking_EndsWithAnErrorEvent_AsItsThinkingWentOut()
    {
        _bed.Primary.Enqueue(DropsWhileThinking());

        var (_, data) = await _bed.StreamAsync("solo", "hi");

        FaultBed.AssertEndedWithError(data, "");
        Assert.Equal("Hmm,", JsonNode.Parse(data[0])!["choices"]![0]!["delta"]!["reasoning_content"]!.GetValue<string>());
        Assert.Single(_bed.Primary.Requests);
    }

    [Fact]
    public async Task ADoneLinePaddedWithSpaces_EndsTheStream_AsTheSdksRead_It()
    {
        _bed.Primary.Enqueue(new UpstreamScript { Tokens = ["a", " b"], DoneLine = "data: [DONE] \t\n\n" });

        var (_, data) = await _bed.StreamAsync("solo", "hi");

        FaultBed.AssertCompleted(data, "a b");
    }
}
