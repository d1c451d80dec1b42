using System.Net;
using Gateway.Hosting;
using Gateway.Tests.Infrastructure;
using Microsoft.Extensions.Options;

namespace Gateway.Tests.Security;

public sealed class SecurityStartupTests
{
    private const string EveryInterface = "http://0.0.0.0:0";

    [Fact]
    public async Task NonLoopback_WithoutKeys_RefusesToStart_NamingTheSettings()
    {
        var exception = await Assert.ThrowsAsync<StartupRefusedException>(
            () => GatewayHost.StartAsync(GatewayHost.SimulatedSettings(), url: EveryInterface));

        Assert.Contains("not loopback", exception.Message, StringComparison.Ordinal);
        Assert.Contains("Gateway:Auth:Keys", exception.Message, StringComparison.Ordinal);
        Assert.Contains("Gateway:Auth:AllowAnonymous", exception.Message, StringComparison.Ordinal);
    }

    /// <summary>
    /// The data protection that authentication brings, which the API-key scheme never uses, writes nothing under the
    /// home directory and says nothing (until 2026-12-07 its start-up service wrote a key ring there, warning that it was
    /// unencrypted, or, for a service user without a home, that it was kept in memory).
    /// </summary>
    [Fact]
    public async Task TheProcess_WritesNoKeyRingUnderItsHomeDirectory_AndSaysNothingOfOne()
    {
        var home = Directory.CreateTempSubdirectory("gateway-home-").FullName;
        try
        {
            var settings = GatewayHost.SimulatedSettings().WithStandardKeys();
            settings["HOME"] = home;
            await using (var gateway = await GatewayProcess.StartAsync(settings))
            {
                using var answered = await gateway.Client.SendAsync(
                    TestKeys.Request(HttpMethod.Post, "/v1/chat/completions", TestKeys.Client, Json.ChatRequest("echo", "hi", stream: false)));
                Assert.Equal(HttpStatusCode.OK, answered.StatusCode);
                Assert.DoesNotContain("DataProtection", gateway.Output, StringComparison.Ordinal);
            }

            Assert.Empty(Directory.EnumerateFileSystemEntries(home, "*", SearchOption.AllDirectories));
        }
        finally
        {
            Directory.Delete(home, recursive: true);
        }
    }

    [Theory]
    [InlineData("sqlite")]
    [InlineData("postgres")]
    public async Task TheProcess_NonLoopback_WithoutKeys_ExitsWith1_WithTheRefusalAlone(string store)
    {
        var settings = GatewayHost.SimulatedSettings();
        settings["Urls"] = $"http://0.0.0.0:{FreePort.Next()}";
        if (store == "postgres")
        {
            // Its notification listener is a second background service that the refusal disposes unstopped.
            settings["Gateway:Storage:Provider"] = "postgres";
            settings["Gateway:Storage:ConnectionString"] = await PostgresServer.CreateDatabaseAsync();
        }

        var exception = await Assert.ThrowsAsync<InvalidOperationException>(() => GatewayProcess.StartAsync(settings));

        Assert.Contains("exited with 1:", exception.Message, StringComparison.Ordinal);
        Assert.Contains("The gateway did not start:", exception.Message, StringComparison.Ordinal);
        Assert.Contains("not loopback", exception.Message, StringComparison.Ordinal);
        // The lease keeper was started, then disposed unstopped: its cancellation is no failure an operator should read.
        Assert.DoesNotContain("BackgroundService failed", exception.Message, StringComparison.Ordinal);
        // Checked from the configuration before the host starts: said once, before anything listened or said "started".
        Assert.DoesNotContain("Hosting failed to start", exception.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("Now listening on", exception.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("Application started", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task NonLoopback_WithAllowAnonymous_Starts()
    {
        var settings = GatewayHost.SimulatedSettings();
        settings["Gateway:Auth:AllowAnonymous"] = "true";

        await using var gateway = await GatewayHost.StartAsync(settings, url: EveryInterface);
        using var response = await gateway.Client.GetAsync("/v1/models");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task NonLoopback_WithKeys_Starts_AndRequiresThem()
    {
        await using var gateway = await GatewayHost.StartAsync(GatewayHost.SimulatedSettings().WithStandardKeys(), url: EveryInterface);
        using var response = await gateway.Client.GetAsync("/v1/models");

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Theory]
    [InlineData("Gateway:Auth:Keys:0:KeyHash", "not-a-hash", "Gateway:Auth:Keys:0:KeyHash must be the 64 hex digits")]
    [InlineData("Gateway:Auth:Keys:0:Role", "root", "Gateway:Auth:Keys:0:Role must be 'admin' or 'client'")]
    [InlineData("Gateway:Auth:Keys:0:Name", "", "Gateway:Auth:Keys:0:Name is required")]
    [InlineData("Gateway:Auth:Keys:0:Name", "anonymous", "Gateway:Auth:Keys:0:Name may not be 'anonymous'")]
    [InlineData("Gateway:Auth:Keys:1:Name", "ops", "Gateway:Auth:Keys:1:Name 'ops' is used by another key")]
    [InlineData("Gateway:Auth:Keys:2:Models:0", "gpt-9", "Gateway:Auth:Keys:2:Models:0 names unknown model alias 'gpt-9'")]
    [InlineData("Gateway:Auth:Keys:0:RequestsPerMinute", "0", "Gateway:Auth:Keys:0:RequestsPerMinute must be at least 1")]
    [InlineData("Gateway:Auth:Keys:0:TokensPerMinute", "-5", "Gateway:Auth:Keys:0:TokensPerMinute must be at least 1")]
    [InlineData("Gateway:Cors:AllowedOrigins:0", "*", "Gateway:Cors:AllowedOrigins:0 must be an origin")]
    [InlineData("Gateway:Cors:AllowedOrigins:0", "https://app.example.com/path", "Gateway:Cors:AllowedOrigins:0 must be an origin")]
    [InlineData("Gateway:Cors:AllowedOrigins:0", "https://app.example.com:443", "Gateway:Cors:AllowedOrigins:0 names the default port 443, which browsers leave out of their Origin: write https://app.example.com")]
    [InlineData("Gateway:Cors:AllowedOrigins:0", "http://app.example.com:80", "write http://app.example.com (got")]
    [InlineData("Gateway:Limits:MaxRequestBytes", "10", "MaxRequestBytes")]
    public async Task BadSecurityConfiguration_StopsStartUpNamingTheKey(string key, string value, string expected)
    {
        var settings = GatewayHost.SimulatedSettings().WithStandardKeys();
        settings[key] = value;

        var exception = await Assert.ThrowsAsync<OptionsValidationException>(() => GatewayHost.StartAsync(settings));

        Assert.Contains(expected, exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DuplicateHash_StopsStartUp_WithoutQuotingIt()
    {
        var settings = GatewayHost.SimulatedSettings().WithKey(0, "a", TestKeys.Client).WithKey(1, "b", TestKeys.Client);

        var exception = await Assert.ThrowsAsync<OptionsValidationException>(() => GatewayHost.StartAsync(settings));

        Assert.Contains("Gateway:Auth:Keys:1:KeyHash is the same as another key's", exception.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(settings["Gateway:Auth:Keys:1:KeyHash"]!, exception.Message, StringComparison.OrdinalIgnoreCase);
    }
}
