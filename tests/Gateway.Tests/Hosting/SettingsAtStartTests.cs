using System.Net;
using Gateway.Hosting;
using Gateway.Streaming;
using Gateway.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

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

    // A folder of its own: the file watcher watches the file's folder, and every folder under it.
    private readonly string _folder = Directory.CreateTempSubdirectory("gateway-settings-").FullName;

    public SettingsAtStartTests() => File.WriteAllText(SettingsFile, AtStart);

    private string SettingsFile => Path.Combine(_folder, "appsettings.json");

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public async Task ASettingsFileSavedUnderTheGateway_WaitsForARestart_AndTheLogNamesTheKeysButNoValue()
    {
        var logs = new CapturedLogs();
        await using var gateway = await GatewayHost.StartAsync(
            GatewayHost.SimulatedSettings(), services => services.AddSingleton<ILoggerProvider>(logs), settingsFile: SettingsFile);

        using (var before = await gateway.Client.PostAsync("/v1/chat/completions", Json.ChatRequest("echo", "logged", stream: false)))
        {
            Assert.Equal(HttpStatusCode.OK, before.StatusCode);
        }

        await logs.WaitForAsync(IsCallLine, TimeSpan.FromSeconds(10));
        // Which file is read, said at start: under `dotnet run` it is the copy beside the binaries, not the repository's.
        var read = Assert.Single(logs.Lines, line => line.Category.EndsWith("SettingsChangeWatch", StringComparison.Ordinal));
        Assert.Equal(LogLevel.Information, read.Level);
        Assert.Equal($"Settings read from {SettingsFile}: a change there applies at the next start, log levels as it is saved", read.Message);
        await File.WriteAllTextAsync(SettingsFile, """
            { "Logging": { "LogLevel": { "Gateway.Telemetry.CallTelemetry": "None" } },
              "AllowedHosts": "gateway.example.com",
              "Gateway": {
                "Resilience": { "FirstTokenTimeoutSeconds": -54321 },
                "Models": { "late": { "Deployments": [ { "Provider": "simulated", "Model": "echo" } ] } },
                "Providers": { "remote": { "Type": "openai", "BaseUrl": "http://127.0.0.1:9/v1", "ApiKey": "sk-edited-secret" } } } }
            """);

        var said = await logs.WaitForAsync(line => line.Category.EndsWith("SettingsChangeWatch", StringComparison.Ordinal) && line != read, TimeSpan.FromSeconds(20));
        Assert.Equal(LogLevel.Warning, said.Level);
        Assert.Contains(
            "(AllowedHosts, Gateway:Models:late:Deployments:0:Model, Gateway:Models:late:Deployments:0:Provider, Gateway:Providers:remote:ApiKey, "
            + "Gateway:Resilience:FirstTokenTimeoutSeconds); it runs on them as they were when it started, until it is restarted.",
            said.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(logs.Lines, line => line.Message.Contains("sk-edited-secret", StringComparison.Ordinal) || line.Message.Contains("-54321", StringComparison.Ordinal));

        // Streamed and whole, on the clock it started with (-54321 failed every call's validation), for the aliases and the
        // hosts it started with (a new AllowedHosts refused every caller with a 400); its log levels as saved.
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

        Assert.Single(logs.Lines, IsCallLine);

        // A file that cannot be read: said (until 2026-12-07 nothing was, and the next start failed on it), and run on as before.
        await File.WriteAllTextAsync(SettingsFile, """{ "Gateway": { "Resilience": """);
        var unreadable = await logs.WaitForAsync(line => line.Message.StartsWith("A configuration file saved under the gateway cannot be read", StringComparison.Ordinal), TimeSpan.FromSeconds(20));
        Assert.Equal(LogLevel.Warning, unreadable.Level);
        Assert.Contains($"Failed to load configuration from file '{SettingsFile}'.", unreadable.Message, StringComparison.Ordinal);
        using (var meanwhile = await gateway.Client.PostAsync("/v1/chat/completions", Json.ChatRequest("echo", "still here", stream: true)))
        {
            Assert.Equal("still here", Sse.Text(await Sse.ReadAllDataAsync(meanwhile)));
        }

        // Put back: said too, so that the operator knows the warning no longer stands.
        await File.WriteAllTextAsync(SettingsFile, AtStart);
        var undone = await logs.WaitForAsync(line => line.Message.StartsWith("The gateway's settings in its configuration are again", StringComparison.Ordinal), TimeSpan.FromSeconds(20));
        Assert.Equal(LogLevel.Information, undone.Level);
        Assert.Equal(2, logs.Lines.Count(line => line.Level == LogLevel.Warning && line.Category.EndsWith("SettingsChangeWatch", StringComparison.Ordinal)));
    }

    /// <summary>The copy is taken as the host is built: a source added after the gateway (a test's, a host's) is in it.</summary>
    [Fact]
    public async Task ASettingAddedAfterTheGateway_IsRunOn()
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Testing", ContentRootPath = AppContext.BaseDirectory });
        builder.Configuration.Sources.Clear();
        builder.Configuration.AddInMemoryCollection(GatewayHost.SimulatedSettings());
        builder.AddGateway();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["Gateway:Streaming:HeartbeatSeconds"] = "3" });

        await using var app = builder.Build();

        Assert.Equal(TimeSpan.FromSeconds(3), app.Services.GetRequiredService<IOptions<StreamingOptions>>().Value.Heartbeat);
    }

    private static bool IsCallLine(LogLine line) => line.Category == "Gateway.Telemetry.CallTelemetry";
}
