using System.Net;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Providers;

/// <summary>
/// Configuration keys ignore case, so an override of one setting of an alias, spelled in another case (an environment
/// variable in capitals), merges into the file's alias, and the merged alias may be spelled either way. Aliases match
/// ignoring case, so no caller, key or flow that names it as the file does is refused for it.
/// </summary>
public sealed class ModelAliasCaseTests : IAsyncLifetime
{
    private GatewayHost _gateway = null!;

    public async Task InitializeAsync()
    {
        var settings = GatewayHost.SimulatedSettings().WithStandardKeys();
        // What GATEWAY__MODELS__ECHO__PRICING__INPUTPERMILLION=1 adds to the file's "echo".
        settings["Gateway:Models:ECHO:Pricing:InputPerMillion"] = "1";
        _gateway = await GatewayHost.StartAsync(settings);
    }

    public async Task DisposeAsync() => await _gateway.DisposeAsync();

    [Theory]
    [InlineData("echo")]
    [InlineData("ECHO")]
    public async Task AnAliasOverriddenInAnotherCase_IsStillServed_UnderEitherSpelling(string model)
    {
        // The key limited to "echo", as its own configuration spells it.
        using var response = await _gateway.Client.SendAsync(TestKeys.Request(
            HttpMethod.Post, "/v1/chat/completions", TestKeys.EchoOnly, Json.ChatRequest(model, "still here", stream: false)));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("still here", (await Json.ReadAsync(response))["choices"]![0]!["message"]!["content"]!.GetValue<string>());
    }

    [Fact]
    public async Task TheModel_AskedForInOtherCapitals_IsDescribedAsTheListSpellsIt()
    {
        using var listed = await _gateway.Client.SendAsync(TestKeys.Request(HttpMethod.Get, "/v1/models", TestKeys.Admin));
        var spelled = (await Json.ReadAsync(listed))["data"]!.AsArray().Select(model => model!["id"]!.GetValue<string>())
            .Single(id => id.Equals("echo", StringComparison.OrdinalIgnoreCase));

        using var described = await _gateway.Client.SendAsync(TestKeys.Request(HttpMethod.Get, "/v1/models/eChO", TestKeys.Admin));

        Assert.Equal(spelled, (await Json.ReadAsync(described))["id"]!.GetValue<string>());
    }

    [Fact]
    public async Task AFlowNamingTheAliasAsTheFileDoes_IsValid()
    {
        using var response = await _gateway.Client.SendAsync(TestKeys.Request(HttpMethod.Post, "/api/flows", TestKeys.Admin, Json.Body("""
            {"id":"cased","nodes":[{"id":"in","type":"input"},{"id":"say","type":"llm","model":"echo","prompt":"in"},
              {"id":"out","type":"output","from":["say"]}]}
            """)));

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
    }
}
