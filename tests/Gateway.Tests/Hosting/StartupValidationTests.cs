using Gateway.Hosting;
using Gateway.Tests.Infrastructure;
using Microsoft.Extensions.Options;

namespace Gateway.Tests.Hosting;

public sealed class StartupValidationTests
{
    [Theory]
    [InlineData("Gateway:Models:echo:Deployments:0:Provider", "nowhere", "Gateway:Models:echo:Deployments:0:Provider names unknown provider 'nowhere'")]
    [InlineData("Gateway:Models:echo:Deployments:0:Model", "gpt-9", "Gateway:Models:echo:Deployments:0:Model must be one of the simulated models")]
    [InlineData("Gateway:Providers:simulated:Type", "carrier-pigeon", "Gateway:Providers:simulated:Type must be")]
    [InlineData("Gateway:Providers:remote:BaseUrl", "not a url", "Gateway:Providers:remote:BaseUrl must be an absolute http or https URL")]
    [InlineData("Gateway:Providers:remote:MaxTokensField", "max_length", "Gateway:Providers:remote:MaxTokensField must be 'max_completion_tokens' or 'max_tokens'.")]
    public async Task BadConfiguration_StopsStartUpNamingTheKey(string key, string value, string expectedMessage)
    {
        var settings = GatewayHost.SimulatedSettings();
        settings["Gateway:Providers:remote:Type"] = "openai";
        settings["Gateway:Providers:remote:BaseUrl"] = "http://127.0.0.1:9/v1";
        settings[key] = value;

        var exception = await Assert.ThrowsAsync<OptionsValidationException>(() => GatewayHost.StartAsync(settings));

        Assert.Contains(expectedMessage, exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AliasWithoutDeployments_StopsStartUp()
    {
        var settings = GatewayHost.SimulatedSettings();
        settings["Gateway:Models:empty:Description"] = "no deployments here";

        var exception = await Assert.ThrowsAsync<OptionsValidationException>(() => GatewayHost.StartAsync(settings));

        Assert.Contains("Gateway:Models:empty:Deployments must list at least one deployment", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task NoModels_StopsStartUp()
    {
        var exception = await Assert.ThrowsAsync<OptionsValidationException>(() => GatewayHost.StartAsync(new Dictionary<string, string?>()));

        Assert.Contains("Gateway:Models", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheProcess_OnAPortAnotherProcessHolds_ExitsWith1_SayingSo()
    {
        using var holder = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        holder.Start();
        var settings = GatewayHost.SimulatedSettings();
        settings["Urls"] = $"http://127.0.0.1:{((System.Net.IPEndPoint)holder.LocalEndpoint).Port}";

        var exception = await Assert.ThrowsAsync<InvalidOperationException>(() => GatewayProcess.StartAsync(settings));

        // Until 2026-12-05: an unhandled exception, exit code 134, and the same stack trace twice.
        Assert.Contains("exited with 1:", exception.Message, StringComparison.Ordinal);
        Assert.Contains("Failed to bind to address", exception.Message, StringComparison.Ordinal);
        Assert.Contains("Is another process listening there?", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AnAppSettingsFileThatIsNotJson_IsDescribed_PointingAtTheRootFile()
    {
        var exception = new InvalidDataException(
            "Failed to load configuration from file '/app/bin/appsettings.json'.", new FormatException("Could not parse the JSON file."));

        var reasons = StartupFailure.Describe(exception);

        Assert.NotNull(reasons);
        Assert.Contains("Could not parse the JSON file.", reasons, StringComparison.Ordinal);
        Assert.Contains("appsettings.json at the repository root", reasons, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Gateway:Streaming:HeartbeatSeconds", "0", "Gateway:Streaming:HeartbeatSeconds")]
    [InlineData("Gateway:Auth:Keys:0:RequestPerMinute", "60", "Gateway:Auth:Keys:0:RequestPerMinute is not a setting the gateway knows")]
    [InlineData("Gateway:Resilience:MaxRetries", "-1", "Gateway:Resilience:MaxRetries must be between 0 and 10.")]
    [InlineData("Gateway:Providers:simulated:Resilience:MaxRetries", "twice", "Gateway:Providers:simulated:Resilience:MaxRetries must be")]
    [InlineData("Gateway:Streaming:EventRetentionMinutes", "an hour", "Gateway:Streaming:EventRetentionMinutes must be a number.")]
    [InlineData("Gateway:Providers:simulated:TokenDelayMs", "fast", "Gateway:Providers:simulated:TokenDelayMs must be a whole number.")]
    public async Task TheProcess_WithBadConfiguration_ExitsWith1_SayingWhatToFix_NotAnUnhandledException(string key, string value, string expected)
    {
        var settings = GatewayHost.SimulatedSettings().WithStandardKeys();
        settings[key] = value;

        var exception = await Assert.ThrowsAsync<InvalidOperationException>(() => GatewayProcess.StartAsync(settings));

        Assert.Contains("exited with 1:", exception.Message, StringComparison.Ordinal);
        Assert.Contains("The gateway did not start:", exception.Message, StringComparison.Ordinal);
        Assert.Contains(expected, exception.Message, StringComparison.Ordinal);
        // The one key to fix, not also the models of a provider whose entry the bad value kept from binding.
        Assert.DoesNotContain("unknown provider", exception.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("Unhandled exception", exception.Message, StringComparison.Ordinal);
        // Said once, by the gateway: not also logged by the host with a stack trace.
        Assert.DoesNotContain("Hosting failed to start", exception.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", exception.Message, StringComparison.Ordinal);
        // Nor is the value quoted (it may be a secret), as the configuration binder's own refusal would.
        Assert.DoesNotContain($"'{value}'", exception.Message, StringComparison.Ordinal);
    }
}
