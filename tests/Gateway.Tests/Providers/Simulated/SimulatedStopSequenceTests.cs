using System.Text.Json.Nodes;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Providers.Simulated;

/// <summary>
/// <c>stop</c> on the simulated models ends the text where a sequence begins, as a model does: the sequence and all
/// after it are not sent, and the finish reason is <c>stop</c>. Before, it was accepted and ignored.
/// </summary>
public sealed class SimulatedStopSequenceTests(SimulatedGateway gateway) : IClassFixture<SimulatedGateway>
{
    [Theory]
    [InlineData("echo", "one two three four", "three", "one two ")]
    [InlineData("echo", "one two three four", "two thr", "one ")] // spans two tokens: " two" is held back until " three" shows it begins one
    [InlineData("echo", "one two three four", "four five", "one two three four")] // a sequence begun but never finished is sent at the end
    [InlineData("lorem", "hi", "dolor", "Lorem ipsum ")]
    public async Task Streamed_TheTextEndsWhereTheSequenceBegins(string model, string message, string stop, string expected)
    {
        using var response = await gateway.Client.PostAsync("/v1/chat/completions", Request(model, message, stop, stream: true));
        var data = await Sse.ReadAllDataAsync(response);

        Assert.Equal(expected, Sse.Text(data));
        var finish = data.Where(d => d != "[DONE]").Select(d => JsonNode.Parse(d)!["choices"]![0]?["finish_reason"]).Last(f => f is not null);
        Assert.Equal("stop", finish!.GetValue<string>());
    }

    [Fact]
    public async Task NotStreamed_TheSameText_AndUsageCountsTheWordsSent()
    {
        using var response = await gateway.Client.PostAsync("/v1/chat/completions", Request("echo", "one two three four", "three", stream: false));
        var completion = await Json.ReadAsync(response);

        Assert.Equal("one two ", completion["choices"]![0]!["message"]!["content"]!.GetValue<string>());
        Assert.Equal("stop", completion["choices"]![0]!["finish_reason"]!.GetValue<string>());
        Assert.Equal(2, completion["usage"]!["completion_tokens"]!.GetValue<int>()); // the words sent
    }

    [Fact]
    public async Task AnEmptySequence_IsLeftOut_AndTheOthersStillStop()
    {
        using var response = await gateway.Client.PostAsync("/v1/chat/completions", Json.Body("""
            {"model":"echo","stop":["","fox"],"messages":[{"role":"user","content":"the quick brown fox jumps"}]}
            """));

        Assert.Equal("the quick brown ", (await Json.ReadAsync(response))["choices"]![0]!["message"]!["content"]!.GetValue<string>());
    }

    [Fact]
    public async Task AFlowNodesStop_IsHonouredToo()
    {
        var (response, events) = await RunClient.RunAsync(gateway.Client, "/api/runs", """
            {"flow":{"nodes":[{"id":"in","type":"input"},{"id":"say","type":"llm","model":"echo","prompt":"in","stop":["STOP"]},
                              {"id":"out","type":"output","from":["say"]}]},
             "input":"keep this STOP drop this"}
            """);
        response.Dispose();

        Assert.Equal("keep this ", events.Single(e => e.Name == "node.completed" && e.Node == "say").Data["output"]!.GetValue<string>());
        Assert.Equal("run.completed", events[^1].Name);
    }

    private static HttpContent Request(string model, string message, string stop, bool stream) => Json.Body(new JsonObject
    {
        ["model"] = model,
        ["stream"] = stream,
        ["stop"] = new JsonArray(stop),
        ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = message }),
    }.ToJsonString());
}
