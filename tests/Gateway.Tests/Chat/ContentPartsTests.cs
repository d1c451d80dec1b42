using System.Text.Json.Nodes;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Chat;

/// <summary>
/// An upstream that writes <c>content</c> as a list of parts, as Mistral's reasoning models (Magistral) do, streamed and
/// not: its thinking parts reach the caller as thinking (<c>reasoning_content</c>) and its text parts as the answer, at
/// the first attempt. Until 2026-12-07 each was a 502 "not a valid chat completion" after three attempts, each
/// generated and paid for.
/// </summary>
public sealed class ContentPartsTests : UpstreamGatewayTests
{
    private static string Chunk(string delta) =>
        $$"""data: {"id":"c3","object":"chat.completion.chunk","created":1,"model":"magistral-medium-2509","choices":[{"index":0,"delta":{{delta}},"finish_reason":null}]}""" + "\n\n";

    private static HttpContent Request(bool stream) =>
        Json.Body($$"""{"model":"up","stream":{{(stream ? "true" : "false")}},"messages":[{"role":"user","content":"Hi"}]}""");

    [Fact]
    public async Task Stream_TheThinkingGoesOnAsReasoningContent_ThenTheText()
    {
        Upstream.Enqueue(new UpstreamScript
        {
            Tokens = [],
            Inject = (0, Chunk("""{"role":"assistant","content":""}""")
                + Chunk("""{"content":[{"type":"thinking","thinking":[{"type":"text","text":"The user"}]}]}""")
                + Chunk("""{"content":[{"type":"thinking","thinking":[{"type":"text","text":" greets \ud83d"}]}]}""")
                + Chunk("""{"content":[{"type":"thinking","thinking":[{"type":"text","text":"\ude00."}]}]}""")
                + Chunk("""{"content":[{"type":"text","text":"Hello"}]}""")
                + Chunk("""{"content":[{"type":"text","text":"!"}]}""")),
        });

        using var response = await Host.Client.PostAsync("/v1/chat/completions", Request(stream: true));

        var data = await Sse.ReadAllDataAsync(response);
        Assert.Equal("[DONE]", data[^1]);
        var deltas = data.SkipLast(1).Select(d => JsonNode.Parse(d)!["choices"]).OfType<JsonArray>().Where(c => c.Count > 0).Select(c => c[0]!["delta"]!).ToList();
        Assert.Equal("The user greets \U0001F600.", string.Concat(deltas.Select(d => d["reasoning_content"]?.GetValue<string>())));
        Assert.Equal("Hello!", Sse.Text(data));
        Assert.Equal("1", response.Headers.GetValues("X-Gateway-Attempts").Single());
        Assert.Single(Upstream.Requests);
    }

    [Fact]
    public async Task Complete_TheThinkingIsReasoningContent_AndTheTextTheContent()
    {
        Upstream.Enqueue(new UpstreamScript
        {
            CompletionBody = """
                {"id":"c1","object":"chat.completion","created":1,"model":"magistral-medium-2509","choices":[{"index":0,"message":{"role":"assistant",
                 "content":[{"type":"thinking","thinking":[{"type":"text","text":"The user greets."}]},{"type":"text","text":"Hello!"}]},"finish_reason":"stop"}],
                 "usage":{"prompt_tokens":3,"completion_tokens":2,"total_tokens":5}}
                """,
        });

        using var response = await Host.Client.PostAsync("/v1/chat/completions", Request(stream: false));

        var message = (await Json.ReadAsync(response))["choices"]![0]!["message"]!;
        Assert.Equal(("Hello!", "The user greets."), (message["content"]!.GetValue<string>(), message["reasoning_content"]!.GetValue<string>()));
        Assert.Equal("1", response.Headers.GetValues("X-Gateway-Attempts").Single());
        Assert.Single(Upstream.Requests);
    }
}
