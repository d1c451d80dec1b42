using System.Net;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Runs;

/// <summary>
/// <c>Gateway:Limits:MaxRunsPerKey</c>: a key's runs under way at once. A security probe found that one client key's
/// burst of cheap runs (no model call, a million characters of templates each) queued other keys' runs behind the
/// store for tens of seconds, and under a memory limit ended them interrupted.
/// </summary>
public sealed class RunsPerKeyTests
{
    private const string SlowRun = """
        {"flow":{"nodes":[{"id":"in","type":"input"},{"id":"talk","type":"llm","model":"lorem","prompt":"in","maxTokens":400},
          {"id":"out","type":"output","from":["talk"]}]},"input":"go"}
        """;

    [Fact]
    public async Task AKeyAtItsLimit_Gets429UntilOneOfItsRunsEnds_WhileAnotherKeysRunsStart()
    {
        var settings = GatewayHost.SimulatedSettings(tokenDelayMs: 25).WithStandardKeys();
        settings["Gateway:Limits:MaxRunsPerKey"] = "2";
        await using var gateway = await GatewayHost.StartAsync(settings);

        var first = await StartAsync(gateway, TestKeys.Client);
        var second = await StartAsync(gateway, TestKeys.Client, background: false);
        using var refused = await StartAsync(gateway, TestKeys.Client);
        using var other = await StartAsync(gateway, TestKeys.Admin);

        Assert.Equal((HttpStatusCode.Accepted, HttpStatusCode.OK), (first.StatusCode, second.StatusCode));
        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(1), refused.Headers.RetryAfter?.Delta);
        var problem = await Json.ReadAsync(refused);
        Assert.Equal("rate_limit_exceeded", problem["code"]!.GetValue<string>());
        Assert.Equal(
            "This API key has 2 runs under way, the most it may have at once (Gateway:Limits:MaxRunsPerKey). Retry once one has ended.",
            problem["detail"]!.GetValue<string>());
        Assert.False(refused.Headers.Contains("X-Run-Id"));
        Assert.Equal(HttpStatusCode.Accepted, other.StatusCode);

        // A streamed run whose caller leaves is still under way until it ends (after the disconnect grace); a
        // cancelled one has ended, and makes room.
        second.Dispose();
        var firstId = first.Headers.GetValues("X-Run-Id").Single();
        first.Dispose();
        using (var cancel = TestKeys.Request(HttpMethod.Post, $"/api/runs/{firstId}/cancel", TestKeys.Client))
        {
            (await gateway.Client.SendAsync(cancel)).Dispose();
        }

        await ReplicaPair.WaitUntilAsync(async () =>
        {
            using var again = await StartAsync(gateway, TestKeys.Client);
            return again.StatusCode == HttpStatusCode.Accepted;
        });
    }

    private static async Task<HttpResponseMessage> StartAsync(GatewayHost gateway, string key, bool background = true)
    {
        var request = TestKeys.Request(HttpMethod.Post, background ? "/api/runs?background=true" : "/api/runs?stream=true", key, Json.Body(SlowRun));
        return await gateway.Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
    }
}
