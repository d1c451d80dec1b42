using System.Net;
using Gateway.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Gateway.Tests.Providers.OpenAI;

/// <summary>How an OpenAI-compatible provider's settings, as an operator writes them, reach the upstream.</summary>
public sealed class ProviderSettingsTests
{
    [Fact]
    public async Task AProviderWithNoKey_ThatRefusesTheGateway_IsSaidToHaveNoKey_NamingTheSetting()
    {
        await using var upstream = await FakeUpstream.StartAsync();
        var settings = GatewayHost.WithUpstream(GatewayHost.SimulatedSettings(), upstream);
        settings.Remove("Gateway:Providers:upstream:ApiKey");
        await using var gateway = await GatewayHost.StartAsync(settings);
        upstream.Enqueue(new UpstreamScript { Status = 401, ErrorBody = """{"error":{"message":"You didn't provide an API key."}}""" });

        using var response = await gateway.Client.PostAsync("/v1/chat/completions", Json.ChatRequest("up", "hi", stream: false));

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        var error = (await Json.ReadAsync(response))["error"]!;
        Assert.Equal("upstream_auth_failed", error["code"]!.GetValue<string>());
        Assert.Equal(
            "Provider 'upstream' refused the gateway's credentials (HTTP 401): it has no API key configured (Gateway:Providers:upstream:ApiKey).",
            error["message"]!.GetValue<string>());
    }

    [Fact]
    public async Task AProviderWithAKey_ThatRefusesIt_IsSaidToRefuseIt_AsBefore()
    {
        await using var upstream = await FakeUpstream.StartAsync();
        await using var gateway = await GatewayHost.StartAsync(GatewayHost.WithUpstream(GatewayHost.SimulatedSettings(), upstream));
        upstream.Enqueue(new UpstreamScript { Status = 401 });

        using var response = await gateway.Client.PostAsync("/v1/chat/completions", Json.ChatRequest("up", "hi", stream: false));

        Assert.Equal(
            "Provider 'upstream' refused the gateway's credentials (HTTP 401).",
            (await Json.ReadAsync(response))["error"]!["message"]!.GetValue<string>());
    }

    [Fact]
    public async Task AHostedProviderWithNoKey_IsWarnedOfAtStartUp_ALocalServerIsNot()
    {
        var logs = new CapturedLogs();
        var settings = GatewayHost.SimulatedSettings();
        settings["Gateway:Providers:hosted:Type"] = "openai";
        settings["Gateway:Providers:hosted:BaseUrl"] = "https://api.example.com/v1";
        settings["Gateway:Providers:ollama:Type"] = "openai";
        settings["Gateway:Providers:ollama:BaseUrl"] = "http://127.0.0.1:11434/v1";
        settings["Gateway:Providers:keyed:Type"] = "openai";
        settings["Gateway:Providers:keyed:BaseUrl"] = "https://api.example.com/v1";
        settings["Gateway:Providers:keyed:ApiKey"] = "sk-configured";

        await using var gateway = await GatewayHost.StartAsync(settings, services => services.AddSingleton<ILoggerProvider>(logs));

        var warning = Assert.Single(logs.Lines, line => line.Category.EndsWith("ProviderKeyCheck", StringComparison.Ordinal));
        Assert.Equal(LogLevel.Warning, warning.Level);
        Assert.Equal(
            "Provider 'hosted' (https://api.example.com) has no API key: a hosted API refuses every call without one. Set Gateway:Providers:hosted:ApiKey, or ignore this if that server takes none.",
            warning.Message);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ABaseUrlEndingInSlashes_ReachesTheSameEndpoint_StreamedOrNot(bool stream)
    {
        await using var upstream = await FakeUpstream.StartAsync();
        var settings = GatewayHost.WithUpstream(GatewayHost.SimulatedSettings(), upstream);
        settings["Gateway:Providers:upstream:BaseUrl"] = upstream.BaseUrl + "//";
        await using var gateway = await GatewayHost.StartAsync(settings);

        using var response = await gateway.Client.PostAsync("/v1/chat/completions", Json.ChatRequest("up", "hi", stream));

        // Unstreamed, until 2026-12-06: POST /v1//chat/completions, which the upstream did not serve (404).
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Single(upstream.Requests);
    }
}
