using System.Net;
using Gateway.Tests.Infrastructure;
using Microsoft.Extensions.Options;

namespace Gateway.Tests.Resilience;

public sealed class ResilienceSettingsTests
{
    [Fact]
    public async Task TotalTimeout_EndsALongHealthyStreamWithAnErrorEvent()
    {
        await using var upstream = await FakeUpstream.StartAsync();
        var settings = GatewayHost.WithDeployments(GatewayHost.SimulatedSettings(), "up", upstream.BaseUrl);
        settings["Gateway:Resilience:TotalTimeoutSeconds"] = "1.5";
        await using var gateway = await GatewayHost.StartAsync(settings);
        upstream.Enqueue(new UpstreamScript { Tokens = [.. Enumerable.Range(0, 30).Select(i => $" t{i}")], TokenDelay = TimeSpan.FromMilliseconds(200) });

        using var response = await gateway.Client.PostAsync("/v1/chat/completions", Json.ChatRequest("up", "x", stream: true));
        var data = await Sse.ReadAllDataAsync(response);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var error = FaultBed.AssertEndedWithError(data, Sse.Text(data.SkipLast(1)));
        Assert.Equal("upstream_timeout", error["code"]!.GetValue<string>());
        Assert.Contains("total timeout", error["message"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.InRange(data.Count - 1, 2, 10);
        Assert.True((await Assert.Single(upstream.Requests).Closed.WaitAsync(TimeSpan.FromSeconds(5))).Aborted);
    }

    [Fact]
    public async Task ProviderOverride_AppliesToThatProviderOnly()
    {
        await using var primary = await FakeUpstream.StartAsync();
        await using var secondary = await FakeUpstream.StartAsync();
        var settings = GatewayHost.WithDeployments(GatewayHost.SimulatedSettings(), "up", primary.BaseUrl, secondary.BaseUrl);
        settings["Gateway:Providers:p0:Resilience:MaxRetries"] = "0";
        await using var gateway = await GatewayHost.StartAsync(settings);
        primary.DefaultScript = new UpstreamScript { Status = 500 };
        secondary.Enqueue(new UpstreamScript { Status = 500 });

        using var response = await gateway.Client.PostAsync("/v1/chat/completions", Json.ChatRequest("up", "override", stream: true));

        Assert.Equal("override", Sse.Text(await Sse.ReadAllDataAsync(response)));
        Assert.Single(primary.Requests);
        Assert.Equal(2, secondary.Requests.Count);
        Assert.Equal("3", response.Headers.GetValues("X-Gateway-Attempts").Single());
    }

    [Theory]
    [InlineData("Gateway:Resilience:MaxRetries", "-1", "Gateway:Resilience: ")]
    [InlineData("Gateway:Providers:simulated:Resilience:IdleTimeoutSeconds", "0", "Gateway:Providers:simulated:Resilience: ")]
    [InlineData("Gateway:Resilience:CircuitBreaker:FailureRatio", "2", "FailureRatio")]
    public async Task OutOfRangeSettings_StopStartUpNamingTheSection(string key, string value, string expected)
    {
        var settings = GatewayHost.SimulatedSettings();
        settings[key] = value;

        // A bad default fails every provider's options too, so start-up may report several at once.
        var exception = await Assert.ThrowsAnyAsync<Exception>(() => GatewayHost.StartAsync(settings));

        Assert.True(exception is OptionsValidationException or AggregateException { InnerExceptions: [OptionsValidationException, ..] });
        Assert.Contains(expected, exception.Message, StringComparison.Ordinal);
    }
}
