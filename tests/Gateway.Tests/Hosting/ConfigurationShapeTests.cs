using Gateway.Hosting;
using Gateway.Providers;
using Gateway.Tests.Infrastructure;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace Gateway.Tests.Hosting;

/// <summary>
/// Keys the configuration binder would pass over in silence stop start-up, named. Left to the binder, a key whose
/// limit is not a number vanished (the last one gone, the gateway served anonymously), and <c>"Models": "echo"</c>
/// let the key use every model.
/// </summary>
public sealed class ConfigurationShapeTests
{
    /// <summary>
    /// A deployment's only number that is no number drops the deployment as it binds: the start-up error names the value,
    /// and not, as well, an alias without deployments, which it has.
    /// </summary>
    [Fact]
    public async Task ADeploymentsClockThatIsNoNumber_IsNamed_AndNotCalledAMissingDeployment()
    {
        var settings = GatewayHost.SimulatedSettings();
        settings["Gateway:Models:echo:Deployments:0:FirstTokenTimeoutSeconds"] = "abc";

        var exception = await Assert.ThrowsAsync<OptionsValidationException>(() => GatewayHost.StartAsync(settings));

        var failure = Assert.Single(exception.Failures);
        Assert.StartsWith("Gateway:Models:echo:Deployments:0:FirstTokenTimeoutSeconds must be a number", failure, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Gateway:Auth:Keys:0:RequestsPerMinute", "60/min", "Gateway:Auth:Keys:0:RequestsPerMinute must be a whole number")]
    [InlineData("Gateway:Auth:Keys:2:TokensPerMinute", "lots", "Gateway:Auth:Keys:2:TokensPerMinute must be a whole number")]
    [InlineData("Gateway:Auth:Keys:2:Models", "echo", "Gateway:Auth:Keys:2:Models must be a list")]
    [InlineData("Gateway:Cors:AllowedOrigins", "https://app.example.com", "(as environment variables: Gateway__Cors__AllowedOrigins__0=..., __1=...)")]
    [InlineData("Gateway:Auth:Keys:1:RequestPerMinute", "60", "Gateway:Auth:Keys:1:RequestPerMinute is not a setting the gateway knows")]
    [InlineData("Gateway:Models:echo:Pricing:InputPerMillion", "abc", "Gateway:Models:echo:Pricing:InputPerMillion must be a number")]
    [InlineData("Gateway:Models:echo:Pricing", "free", "Gateway:Models:echo:Pricing must be a section of settings")]
    [InlineData("Gateway:Providers:simulated:TokenDelayMs", "abc", "Gateway:Providers:simulated:TokenDelayMs must be a whole number")]
    [InlineData("Gateway:Providers:simulated:Resilience:MaxRetries", "twice", "Gateway:Providers:simulated:Resilience:MaxRetries must be a whole number")]
    [InlineData("Gateway:Limit:MaxRequestBytes", "2048", "Gateway:Limit is not a setting the gateway knows")]
    [InlineData("Gateway:Providers:simulated:Resilience:MaxRetries", "99999999999", "Gateway:Providers:simulated:Resilience:MaxRetries is out of range for its setting.")]
    public async Task AKeyTheBinderWouldDropOrIgnore_StopsStartUpNamingIt(string key, string value, string expected)
    {
        var settings = GatewayHost.SimulatedSettings().WithStandardKeys();
        settings[key] = value;

        var exception = await Assert.ThrowsAsync<OptionsValidationException>(() => GatewayHost.StartAsync(settings));

        Assert.Contains(expected, exception.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(value, exception.Message.Replace(key, "", StringComparison.Ordinal), StringComparison.Ordinal);
    }

    [Fact]
    public async Task SettingsThatBind_StillStart_WithAProvidersOwnResilienceAndKeysInAnyCase()
    {
        var settings = GatewayHost.SimulatedSettings().WithStandardKeys();
        settings["Gateway:Providers:simulated:Resilience:MaxRetries"] = "1";
        settings["Gateway:Providers:simulated:Resilience:CircuitBreaker:BreakSeconds"] = "5";
        settings["Gateway:auth:keys:1:requestsperminute"] = "100";
        settings["Gateway:Models:echo:Pricing:InputPerMillion"] = "0.5";

        await using var gateway = await GatewayHost.StartAsync(settings);
        using var response = await gateway.Client.SendAsync(TestKeys.Request(HttpMethod.Get, "/v1/models", TestKeys.Client));

        Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public void TheShippedAppSettings_HaveTheShapeTheGatewayBinds()
    {
        var configuration = new ConfigurationBuilder()
            .AddJsonFile(Path.Combine(RepositoryRoot.Path, "appsettings.json"), optional: false)
            .Build();

        var result = new GatewayConfigurationValidator(configuration).Validate(Options.DefaultName, new RoutingOptions());

        Assert.True(result.Succeeded, result.FailureMessage);
    }
}
