using System.Net;
using Gateway.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Gateway.Tests.Hosting;

/// <summary>
/// appsettings.json saved under a running gateway: ASP.NET Core reloads it, and until 2026-12-07 the resilience settings
/// followed at once (a bad value made every streamed completion a 500) while the rest did not.
/// </summary>
public sealed class SettingsAtStartTests : IDisposable
{
    private const string AtStart = """
        { "Gateway": {
            "Resilience": { "FirstTokenTimeoutSeconds": 30 },
            "Providers": { "remote": { "Type": "openai", "BaseUrl": "http://127.0.0.1:9/v1", "ApiKey": "sk-at-start" } } } }
        """;

    private readonly string _file = Path.Combine(Path.GetTempPath(), $"gateway-settings-{Guid.NewGuid():N}.json");

    public SettingsAtStartTests() => File.WriteAllText(_file, AtStart);

    public void Dispose() => File.Delete(_file);

    [Fact]
    public async Task ASettingsFileSavedUnderTheGateway_WaitsForARestart_AndTheLogNamesTheKeysButNoValue()
    {
        var logs = new CapturedLogs();
        await using var gateway = await GatewayHost.StartAsync(
            GatewayHost.SimulatedSettings(), services => services.AddSingleton<ILoggerProvider>(logs), settingsFile: _file);

        await File.WriteAllTextAsync(_file, """
            { "Gateway": {
                "Resilience": { "FirstTokenTimeoutSeconds": -5 },
                "Models": { "late": { "Deployments": [ { "Provider": "simulated", "Model": "echo" } ] } },
                "Providers": { "remote": { "Type": "openai", "BaseUrl": "http://127.0.0.1:9/v1", "ApiKey": "sk-edited-secret" } } } }
            """);

        var said = await logs.WaitForAsync(line => line.Category.EndsWith("SettingsChangeWatch", StringComparison.Ordinal), TimeSpan.FromSeconds(20));
        Assert.Equal(LogLevel.Warning, said.Level);
        Assert.Contains(
            "(Gateway:Models:late:Deployments:0:Model, Gateway:Models:late:Deployments:0:Provider, Gateway:Providers:remote:ApiKey, "
            + "Gateway:Resilience:FirstTokenTimeoutSeconds); it runs on them as they were when it started, until it is restarted.",
            said.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(logs.Lines, line => line.Message.Contains("sk-", StringComparison.Ordinal) || line.Message.Contains("-5", StringComparison.Ordinal));

        // Streamed and whole, on the clock it started with (-5 failed every call's validation), for the aliases it started with.
        using (var streamed = await gateway.Client.PostAsync("/v1/chat/completions", Json.ChatRequest("echo", "still here", stream: true)))
        {
            Assert.Equal(HttpStatusCode.OK, streamed.StatusCode);
            Assert.Equal("still here", Sse.Text(await Sse.ReadAllDataAsync(streamed)));
        }

        using (var whole = await gateway.Client.PostAsync("/v1/chat/completions", Json.ChatRequest("echo", "still here", stream: false)))
        {
            Assert.Equal(HttpStatusCode.OK, whole.StatusCode);
        }

        using (var late = await gateway.Client.PostAsync("/v1/chat/completions", Json.ChatRequest("late", "hi", stream: true)))
        {
            Assert.Equal(HttpStatusCode.NotFound, late.StatusCode);
        }

        // Put back: said too, so that the operator knows the warning no longer stands.
        await File.WriteAllTextAsync(_file, AtStart);
        var undone = await logs.WaitForAsync(line => line.Message.StartsWith("The gateway's settings in its configuration are again", StringComparison.Ordinal), TimeSpan.FromSeconds(20));
        Assert.Equal(LogLevel.Information, undone.Level);
        Assert.Single(logs.Lines, line => line.Level == LogLevel.Warning && line.Category.EndsWith("SettingsChangeWatch", StringComparison.Ordinal));
    }
}
