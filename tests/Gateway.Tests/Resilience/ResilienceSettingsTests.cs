using System.Net;
using Gateway.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
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
    public async Task TotalTimeout_BeforeTheFirstToken_Is504_NotRetried_NotFallenBackFrom()
    {
        await using var primary = await FakeUpstream.StartAsync();
        await using var secondary = await FakeUpstream.StartAsync();
        var settings = GatewayHost.WithDeployments(GatewayHost.SimulatedSettings(), "up", primary.BaseUrl, secondary.BaseUrl);
        // Below the first-token timeout, as when a short total bounds every request.
        settings["Gateway:Resilience:TotalTimeoutSeconds"] = "1";
        settings["Gateway:Resilience:FirstTokenTimeoutSeconds"] = "5";
        await using var gateway = await GatewayHost.StartAsync(settings);
        primary.DefaultScript = new UpstreamScript { Stall = (0, TimeSpan.FromSeconds(10)) };

        using var response = await gateway.Client.PostAsync("/v1/chat/completions", Json.ChatRequest("up", "x", stream: true));

        Assert.Equal(HttpStatusCode.GatewayTimeout, response.StatusCode);
        var error = (await Json.ReadAsync(response))["error"]!;
        Assert.Equal("upstream_timeout", error["code"]!.GetValue<string>());
        Assert.Equal("Model 'up' did not answer in time: Provider 'p0' did not finish within the total timeout of 1 s.", error["message"]!.GetValue<string>());
        Assert.Equal("1", response.Headers.GetValues("X-Gateway-Attempts").Single());
        Assert.Single(primary.Requests);
        Assert.Empty(secondary.Requests);
    }

    /// <summary>
    /// The total timeout running out while an error status's body stalls is the total timeout (504), not the status:
    /// told as a 503, the gateway would have logged and counted a fallback to a deployment it never asked. (The 503s
    /// before it, whose status came at once, are retried, as any 503.)
    /// </summary>
    [Fact]
    public async Task TotalTimeout_WhileAnErrorStatussBodyStalls_Is504_NotFallenBackFrom()
    {
        await using var primary = await FakeUpstream.StartAsync();
        await using var secondary = await FakeUpstream.StartAsync();
        var settings = GatewayHost.WithDeployments(GatewayHost.SimulatedSettings(), "up", primary.BaseUrl, secondary.BaseUrl);
        settings["Gateway:Resilience:TotalTimeoutSeconds"] = "1";
        settings["Gateway:Resilience:FirstTokenTimeoutSeconds"] = "5";
        await using var gateway = await GatewayHost.StartAsync(settings);
        primary.DefaultScript = new UpstreamScript { Status = 503, ErrorBodyStall = TimeSpan.FromSeconds(30) };

        using var response = await gateway.Client.PostAsync("/v1/chat/completions", Json.ChatRequest("up", "x", stream: true));

        Assert.Equal(HttpStatusCode.GatewayTimeout, response.StatusCode);
        var error = (await Json.ReadAsync(response))["error"]!;
        Assert.Equal("upstream_timeout", error["code"]!.GetValue<string>());
        Assert.Equal("Model 'up' did not answer in time: Provider 'p0' did not finish within the total timeout of 1 s.", error["message"]!.GetValue<string>());
        Assert.Equal(primary.Requests.Count.ToString(System.Globalization.CultureInfo.InvariantCulture), response.Headers.GetValues("X-Gateway-Attempts").Single());
        Assert.True((await primary.Requests[^1].Closed.WaitAsync(TimeSpan.FromSeconds(5))).Aborted, "the stalled body's connection was left open");
        Assert.Empty(secondary.Requests);
    }

    [Fact]
    public async Task TotalTimeout_InARetryAfterWait_Is504_AndAFlowNodeSaysSo()
    {
        await using var upstream = await FakeUpstream.StartAsync();
        var settings = GatewayHost.WithDeployments(GatewayHost.SimulatedSettings(), "up", upstream.BaseUrl);
        settings["Gateway:Resilience:TotalTimeoutSeconds"] = "1";
        settings["Gateway:Resilience:MaxDelayMs"] = "5000";
        await using var gateway = await GatewayHost.StartAsync(settings);
        upstream.DefaultScript = new UpstreamScript { Status = 503, RetryAfter = "3" };

        using var chat = await gateway.Client.PostAsync("/v1/chat/completions", Json.ChatRequest("up", "x", stream: true));
        using var run = await gateway.Client.PostAsync("/api/runs", Json.Body("""
            {"flow":{"nodes":[{"id":"in","type":"input"},{"id":"ask","type":"llm","model":"up","prompt":"in"},
                              {"id":"out","type":"output","from":["ask"]}]},
             "input":"x"}
            """));

        Assert.Equal(HttpStatusCode.GatewayTimeout, chat.StatusCode);
        Assert.Equal("upstream_timeout", (await Json.ReadAsync(chat))["error"]!["code"]!.GetValue<string>());
        var node = (await Json.ReadAsync(run))["nodes"]!["ask"]!;
        Assert.Equal("failed", node["status"]!.GetValue<string>());
        Assert.Equal("upstream_timeout", node["error"]!["code"]!.GetValue<string>());
        // Each waited out its Retry-After and sent nothing more.
        Assert.Equal(2, upstream.Requests.Count);
    }

    [Theory]
    [InlineData("1.5")]
    [InlineData("1e20")]
    public async Task RetryAfterTheTypedHeaderCannotRead_IsStillWaited_CappedByMaxDelay(string retryAfter)
    {
        await using var upstream = await FakeUpstream.StartAsync();
        var settings = GatewayHost.WithDeployments(GatewayHost.SimulatedSettings(), "up", upstream.BaseUrl);
        settings["Gateway:Resilience:BaseDelayMs"] = "10";
        settings["Gateway:Resilience:MaxDelayMs"] = "1200";
        await using var gateway = await GatewayHost.StartAsync(settings);
        upstream.Enqueue(new UpstreamScript { Status = 429, RetryAfter = retryAfter });

        using var response = await gateway.Client.PostAsync("/v1/chat/completions", Json.ChatRequest("up", "waited", stream: true));

        Assert.Equal("waited", Sse.Text(await Sse.ReadAllDataAsync(response)));
        var requests = upstream.Requests;
        Assert.Equal(2, requests.Count);
        // 1.5 s, or a day, capped at 1.2 s: either way far above the 10 ms backoff it was retried after before.
        Assert.InRange(requests[1].ReceivedAt - requests[0].ReceivedAt, TimeSpan.FromSeconds(1.15), TimeSpan.FromSeconds(10));
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

    [Fact]
    public async Task ADeploymentNamingItsProviderInAnotherCase_GetsThatProvidersSettings_NotTheDefaults()
    {
        await using var upstream = await FakeUpstream.StartAsync();
        var settings = GatewayHost.WithDeployments(GatewayHost.SimulatedSettings(), "up", upstream.BaseUrl);
        settings["Gateway:Models:up:Deployments:0:Provider"] = "P0";
        settings["Gateway:Providers:p0:Resilience:MaxRetries"] = "0";
        await using var gateway = await GatewayHost.StartAsync(settings);
        upstream.DefaultScript = new UpstreamScript { Status = 500 };

        using var response = await gateway.Client.PostAsync("/v1/chat/completions", Json.ChatRequest("up", "no retries", stream: true));

        Assert.Equal(System.Net.HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Single(upstream.Requests);
        Assert.Equal("1", response.Headers.GetValues("X-Gateway-Attempts").Single());
    }

    /// <summary>
    /// A model that thinks without streaming its thinking (o-series, gpt-5 on Chat Completions) sends nothing for as long
    /// as it thinks. Its deployment's own first-token clock lets it, while the provider's other models keep theirs;
    /// until 2026-12-06 it took a provider entry of its own, or each attempt was cut at the provider's clock and retried.
    /// </summary>
    [Fact]
    public async Task ADeploymentsOwnFirstTokenTimeout_LetsItsModelThink_WhileTheProvidersOtherModelsKeepTheirs()
    {
        await using var upstream = await FakeUpstream.StartAsync();
        var settings = GatewayHost.WithUpstream(GatewayHost.SimulatedSettings(), upstream);
        settings["Gateway:Resilience:FirstTokenTimeoutSeconds"] = "1";
        settings["Gateway:Resilience:MaxRetries"] = "0";
        GatewayHost.WithAlias(settings, "thinker", "upstream", "o3");
        settings["Gateway:Models:thinker:Deployments:0:FirstTokenTimeoutSeconds"] = "10";
        await using var gateway = await GatewayHost.StartAsync(settings);
        var think = new UpstreamScript { Tokens = ["done", " thinking"], Stall = (0, TimeSpan.FromSeconds(2.5)) };

        upstream.Enqueue(think);
        using var thinker = await gateway.Client.PostAsync("/v1/chat/completions", Json.ChatRequest("thinker", "x", stream: true));
        var data = await Sse.ReadAllDataAsync(thinker);
        FaultBed.AssertCompleted(data, "done thinking");

        // Its response headers may be as slow: the wait for them is the same clock.
        upstream.Enqueue(think with { Stall = null, HeadersDelay = TimeSpan.FromSeconds(2.5) });
        using var slowHeaders = await gateway.Client.PostAsync("/v1/chat/completions", Json.ChatRequest("thinker", "x", stream: true));
        FaultBed.AssertCompleted(await Sse.ReadAllDataAsync(slowHeaders), "done thinking");

        upstream.Enqueue(think);
        using var other = await gateway.Client.PostAsync("/v1/chat/completions", Json.ChatRequest("up", "x", stream: true));
        Assert.Equal(HttpStatusCode.GatewayTimeout, other.StatusCode);
        var error = await Json.ReadAsync(other);
        Assert.Contains("sent no first token within 1 s", error["error"]!["message"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(3, upstream.Requests.Count);
    }

    /// <summary>
    /// A first-token clock at or past the call's total timeout never fires: the total ends the call first, and a stall
    /// is then neither retried nor fallen back from. Until 2026-12-06 (night) nothing said so. Said once per setting,
    /// named as written; simulated deployments never stall, and are left out.
    /// </summary>
    [Fact]
    public async Task AFirstTokenClockNoShorterThanTheTotalTimeout_IsWarnedOfAtStartUp_OncePerSetting()
    {
        var logs = new CapturedLogs();
        var settings = GatewayHost.SimulatedSettings();
        settings["Gateway:Resilience:FirstTokenTimeoutSeconds"] = "20";
        settings["Gateway:Resilience:TotalTimeoutSeconds"] = "20";
        foreach (var provider in new[] { "hosted", "quick", "slow" })
        {
            settings[$"Gateway:Providers:{provider}:Type"] = "openai";
            settings[$"Gateway:Providers:{provider}:BaseUrl"] = "http://127.0.0.1:9/v1";
            settings[$"Gateway:Providers:{provider}:ApiKey"] = "sk-unused";
        }

        settings["Gateway:Providers:quick:Resilience:FirstTokenTimeoutSeconds"] = "5";
        GatewayHost.WithAlias(settings, "a", "hosted", "m");
        GatewayHost.WithAlias(settings, "b", "hosted", "m");
        GatewayHost.WithAlias(settings, "thinker", "quick", "o3");
        settings["Gateway:Models:thinker:Deployments:1:Provider"] = "quick";
        settings["Gateway:Models:thinker:Deployments:1:Model"] = "o3";
        settings["Gateway:Models:thinker:Deployments:1:FirstTokenTimeoutSeconds"] = "30";
        // A provider's own clock, its name spelled in another case by the deployment (named options match exactly).
        settings["Gateway:Providers:slow:Resilience:FirstTokenTimeoutSeconds"] = "25";
        GatewayHost.WithAlias(settings, "c", "SLOW", "m");

        await using var gateway = await GatewayHost.StartAsync(settings, services => services.AddSingleton<ILoggerProvider>(logs));

        var warnings = logs.Lines.Where(line => line.Category.EndsWith("DeploymentClockCheck", StringComparison.Ordinal)).ToList();
        Assert.All(warnings, warning => Assert.Equal(LogLevel.Warning, warning.Level));
        Assert.Equal(
            [
                "Gateway:Resilience:FirstTokenTimeoutSeconds (20 s) is no shorter than the total timeout of 20 s that bounds model 'a' (deployment 0, hosted): the total timeout ends such a call first, so a stall before its first token is never retried or fallen back from. Set it below the total.",
                "Gateway:Providers:slow:Resilience:FirstTokenTimeoutSeconds (25 s) is no shorter than the total timeout of 20 s that bounds model 'c' (deployment 0, slow): the total timeout ends such a call first, so a stall before its first token is never retried or fallen back from. Set it below the total.",
                "Gateway:Models:thinker:Deployments:1:FirstTokenTimeoutSeconds (30 s) is no shorter than the total timeout of 20 s that bounds model 'thinker' (deployment 1, quick): the total timeout ends such a call first, so a stall before its first token is never retried or fallen back from. Set it below the total.",
            ],
            warnings.Select(warning => warning.Message).Order(StringComparer.Ordinal).Reverse());
    }

    [Theory]
    [InlineData("Gateway:Resilience:MaxRetries", "-1", "Gateway:Resilience:MaxRetries must be between 0 and 10.")]
    [InlineData("Gateway:Providers:simulated:Resilience:IdleTimeoutSeconds", "0", "Gateway:Providers:simulated:Resilience:IdleTimeoutSeconds must be between 0.01 and 3600.")]
    [InlineData("Gateway:Resilience:CircuitBreaker:FailureRatio", "2", "Gateway:Resilience:CircuitBreaker:FailureRatio must be between 0.01 and 1.")]
    [InlineData("Gateway:Providers:other:Resilience:CircuitBreaker:BreakSeconds", "0", "Gateway:Providers:other:Resilience:CircuitBreaker:BreakSeconds must be between 0.5 and 3600.")]
    [InlineData("Gateway:Models:echo:Deployments:0:FirstTokenTimeoutSeconds", "0", "Gateway:Models:echo:Deployments:0:FirstTokenTimeoutSeconds must be between 0.01 and 3600.")]
    // Accepted until 2026-12-07: every backoff was then the cap, not the first delay the operator set.
    [InlineData("Gateway:Resilience:BaseDelayMs", "20000", "Gateway:Resilience:MaxDelayMs must be at least BaseDelayMs (20000), the first backoff it caps; got 10000.")]
    [InlineData("Gateway:Providers:other:Resilience:MaxDelayMs", "100", "Gateway:Providers:other:Resilience:MaxDelayMs must be at least BaseDelayMs (200), the first backoff it caps; got 100.")]
    [InlineData("Gateway:Providers:other:Resilience:BaseDelayMs", "20000", "Gateway:Providers:other:Resilience:BaseDelayMs must be at most MaxDelayMs (10000), the cap on every backoff; got 20000.")]
    [InlineData("Gateway:Resilience:MaxDelayMs", "-1", "Gateway:Resilience:MaxDelayMs must be between 0 and 600000.")]
    public async Task OutOfRangeSettings_StopStartUp_NamingTheKeyOnce(string key, string value, string expected)
    {
        var settings = GatewayHost.SimulatedSettings();
        settings["Gateway:Providers:other:Type"] = "simulated";
        settings[key] = value;

        var exception = await Assert.ThrowsAnyAsync<OptionsValidationException>(() => GatewayHost.StartAsync(settings));

        // Where it was set, and only there: the providers that inherit a shared value do not repeat its failure.
        Assert.Equal([expected], exception.Failures);
    }

    [Fact]
    public async Task DelaysOutOfOrder_WhereNothingIsRetried_DoNotStopStartUp()
    {
        var settings = GatewayHost.SimulatedSettings();
        settings["Gateway:Resilience:MaxRetries"] = "0";
        settings["Gateway:Resilience:BaseDelayMs"] = "20000";

        await using var gateway = await GatewayHost.StartAsync(settings);

        using var response = await gateway.Client.PostAsync("/v1/chat/completions", Json.ChatRequest("echo", "hi", stream: false));
        Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
    }
}
