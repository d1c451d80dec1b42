using System.Net;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Hosting;

/// <summary>
/// The gateway as a container runs it: the settings file beside it, overridden by environment variables spelled in
/// capitals (<c>GATEWAY__PROVIDERS__OPENAI__APIKEY</c>). A key keeps the settings file's spelling (KeySpelling), and is
/// spelled alike wherever it is read.
/// </summary>
public sealed class KeySpellingTests
{
    /// <summary>
    /// Until 2026-12-07 the merge of the sources kept the override's spelling: answers named the model <c>ECHO</c>. The
    /// command line is read before the settings file too (as the host's own settings), and does not win either.
    /// </summary>
    [Theory]
    [InlineData("environment")]
    [InlineData("command line")]
    public async Task AnAliasOverriddenInCapitals_KeepsTheFilesSpelling_InAnswersAndTheList(string from)
    {
        var settings = new Dictionary<string, string?>();
        string[] arguments = [];
        if (from == "environment")
        {
            settings["GATEWAY__MODELS__ECHO__PRICING__INPUTPERMILLION"] = "1";
        }
        else
        {
            arguments = ["--GATEWAY:MODELS:ECHO:PRICING:INPUTPERMILLION=1"];
        }

        await using var gateway = await GatewayProcess.StartAsync(settings, arguments);

        using var answered = await gateway.Client.PostAsync("/v1/chat/completions", Json.ChatRequest("echo", "spelled", stream: false));
        using var listed = await gateway.Client.GetAsync("/v1/models");
        var ids = (await Json.ReadAsync(listed))["data"]!.AsArray().Select(model => model!["id"]!.GetValue<string>()).ToList();

        Assert.Equal("echo", (await Json.ReadAsync(answered))["model"]!.GetValue<string>());
        Assert.Equal(["echo", "gpt-4o-mini", "lorem"], ids);
    }

    /// <summary>
    /// A provider of the settings file whose URL and key come from such variables still calls through its own client
    /// (no cookie jar shared by every caller, no redirects followed, its retries). Spelled one way where that client was
    /// registered and another where it was asked for, it got a bare HttpClient (found by review, 2026-12-07).
    /// </summary>
    [Fact]
    public async Task AProviderOverriddenInCapitals_CallsThroughItsOwnClient_SoNoCookieRidesOnTheNextCall()
    {
        await using var upstream = await FakeUpstream.StartAsync();
        upstream.Enqueue(new UpstreamScript { Headers = new Dictionary<string, string> { ["Set-Cookie"] = "lb=replica-7; Path=/" } });
        var settings = new Dictionary<string, string?>
        {
            ["GATEWAY__PROVIDERS__OPENAI__BASEURL"] = upstream.BaseUrl,
            ["GATEWAY__PROVIDERS__OPENAI__APIKEY"] = "sk-spelled-in-capitals-0123",
        };
        await using var gateway = await GatewayProcess.StartAsync(settings);

        foreach (var _ in new[] { 1, 2 })
        {
            using var answered = await gateway.Client.PostAsync("/v1/chat/completions", Json.ChatRequest("gpt-4o-mini", "hi", stream: false));
            Assert.Equal(HttpStatusCode.OK, answered.StatusCode);
        }

        Assert.Equal(["", ""], upstream.Requests.Select(request => request.Cookie));
        Assert.All(upstream.Requests, request => Assert.Equal("Bearer sk-spelled-in-capitals-0123", request.Authorization));
    }
}
