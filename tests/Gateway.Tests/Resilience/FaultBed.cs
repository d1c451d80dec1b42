using System.Net;
using System.Text.Json.Nodes;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Resilience;

/// <summary>
/// Two scripted upstreams and a gateway with an alias <c>up</c> served by them in that order, plus <c>solo</c>
/// (the first alone) and <c>refused</c> (a closed port, then the second). Warmed up, so that the first request
/// of a cold process does not count against the short timeouts under test.
/// </summary>
public sealed class FaultBed : IAsyncDisposable
{
    private FaultBed(FakeUpstream primary, FakeUpstream secondary, GatewayHost gateway)
    {
        Primary = primary;
        Secondary = secondary;
        Gateway = gateway;
    }

    public FakeUpstream Primary { get; }

    public FakeUpstream Secondary { get; }

    public GatewayHost Gateway { get; }

    public static async Task<FaultBed> StartAsync(double firstTokenTimeoutSeconds, double idleTimeoutSeconds)
    {
        var primary = await FakeUpstream.StartAsync();
        var secondary = await FakeUpstream.StartAsync();
        var settings = GatewayHost.WithDeployments(GatewayHost.SimulatedSettings(), "up", primary.BaseUrl, secondary.BaseUrl);
        GatewayHost.WithAlias(settings, "solo", "p0", "solo-model");
        settings["Gateway:Models:refused:Deployments:0:Provider"] = "closed";
        settings["Gateway:Models:refused:Deployments:0:Model"] = "m";
        settings["Gateway:Models:refused:Deployments:1:Provider"] = "p1";
        settings["Gateway:Models:refused:Deployments:1:Model"] = "model-1";
        settings["Gateway:Providers:closed:Type"] = "openai";
        settings["Gateway:Providers:closed:BaseUrl"] = "http://127.0.0.1:1/v1";
        settings["Gateway:Resilience:FirstTokenTimeoutSeconds"] = firstTokenTimeoutSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        settings["Gateway:Resilience:IdleTimeoutSeconds"] = idleTimeoutSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        settings["Gateway:Resilience:TotalTimeoutSeconds"] = "30";
        var gateway = await GatewayHost.StartAsync(settings);
        var bed = new FaultBed(primary, secondary, gateway);

        using var warmUp = await gateway.Client.PostAsync("/v1/chat/completions", Json.ChatRequest("up", "warm up", stream: true));
        await Sse.ReadAllDataAsync(warmUp);
        primary.ClearRequests();
        return bed;
    }

    public async Task<(HttpResponseMessage Response, List<string> Data)> StreamAsync(string model, string message)
    {
        var response = await Gateway.Client.PostAsync("/v1/chat/completions", Json.ChatRequest(model, message, stream: true));
        var data = response.StatusCode == HttpStatusCode.OK ? await Sse.ReadAllDataAsync(response) : [];
        return (response, data);
    }

    public static string Attempts(HttpResponseMessage response) => response.Headers.GetValues("X-Gateway-Attempts").Single();

    public static void AssertCompleted(List<string> data, string expectedText)
    {
        Assert.Equal(expectedText, Sse.Text(data));
        Assert.Equal("[DONE]", data[^1]);
        Assert.DoesNotContain(data, d => d.StartsWith("{\"error\"", StringComparison.Ordinal));
    }

    /// <summary>The stream carried exactly <paramref name="expectedTextBefore"/>, then one error event, no finish, no [DONE].</summary>
    public static JsonNode AssertEndedWithError(List<string> data, string expectedTextBefore)
    {
        Assert.DoesNotContain("[DONE]", data);
        Assert.Equal(expectedTextBefore, Sse.Text(data.SkipLast(1)));
        Assert.DoesNotContain(data, d => d.Contains("\"finish_reason\":\"", StringComparison.Ordinal));
        return JsonNode.Parse(data[^1])!["error"]!;
    }

    public async ValueTask DisposeAsync()
    {
        await Gateway.DisposeAsync();
        await Primary.DisposeAsync();
        await Secondary.DisposeAsync();
    }
}
