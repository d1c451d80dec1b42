using System.Diagnostics;
using System.Net.ServerSentEvents;
using System.Text.Json.Nodes;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Streaming;

/// <summary>Streams through the real nginx arrive token by token, with deploy/nginx.conf and with buffering left on.</summary>
public sealed class NginxTests : IAsyncLifetime
{
    private const int Tokens = 20;
    private static readonly TimeSpan TokenDelay = TimeSpan.FromMilliseconds(50);

    private GatewayHost _gateway = null!;

    public async Task InitializeAsync() =>
        _gateway = await GatewayHost.StartAsync(GatewayHost.SimulatedSettings(tokenDelayMs: (int)TokenDelay.TotalMilliseconds));

    public async Task DisposeAsync() => await _gateway.DisposeAsync();

    public static TheoryData<string> Configs => ["deploy", "ordinary"];

    /// <summary>
    /// The shipped configs started under a service manager's usual open-file limit (1,024, as Debian's nginx.service
    /// leaves it): each worker raises its own to hold its 8,192 connections, each stream two of them. Without
    /// worker_rlimit_nofile it kept 1,024, and past ~500 streams a worker could open no upstream connection: nginx's HTML
    /// 500 (found by a probe, 2026-12-07).
    /// </summary>
    [Theory]
    [InlineData("deploy")]
    [InlineData("replicas")]
    public async Task TheShippedConfigs_UnderAnOrdinaryOpenFileLimit_GiveEachWorkerADescriptorForEveryConnection(string which)
    {
        await using var nginx = await NginxProxy.StartAsync(
            port => which == "deploy"
                ? NginxProxy.DeployConfig(_gateway.BaseAddress, port)
                : NginxProxy.ReplicasConfig([_gateway.BaseAddress, _gateway.BaseAddress], port),
            openFileLimit: 1024);

        var limits = nginx.WorkerOpenFileLimits();

        Assert.NotEmpty(limits);
        Assert.All(limits, limit => Assert.True(limit > 8192, $"a worker may open {limit} files"));
    }

    [Theory]
    [MemberData(nameof(Configs))]
    public async Task ChatStream_ArrivesTokenByTokenThroughNginx(string config)
    {
        await using var nginx = await NginxProxy.StartAsync(port => config == "deploy"
            ? NginxProxy.DeployConfig(_gateway.BaseAddress, port)
            : NginxProxy.OrdinaryConfig(_gateway.BaseAddress, port));
        using var client = new HttpClient { BaseAddress = nginx.BaseAddress };

        var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
        {
            Content = Json.ChatRequest("lorem", "x", stream: true, maxTokens: Tokens),
        };
        using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        var clock = Stopwatch.StartNew();
        var arrivals = new List<TimeSpan>();
        var text = "";
        await foreach (var item in SseParser.Create(await response.Content.ReadAsStreamAsync()).EnumerateAsync())
        {
            if (item.Data != "[DONE]" && JsonNode.Parse(item.Data)!["choices"]![0]!["delta"]!["content"]?.GetValue<string>() is { Length: > 0 } token)
            {
                arrivals.Add(clock.Elapsed);
                text += token;
            }
        }

        Assert.Equal(Tokens, arrivals.Count);
        Assert.StartsWith("Lorem ipsum dolor", text, StringComparison.Ordinal);
        // 20 tokens 50 ms apart span about a second; buffered, they would all arrive within a few milliseconds.
        Assert.True(arrivals[^1] - arrivals[0] > TimeSpan.FromMilliseconds(500),
            $"tokens arrived in a lump: first at {arrivals[0].TotalMilliseconds:0} ms, last at {arrivals[^1].TotalMilliseconds:0} ms");
    }

    [Theory]
    [MemberData(nameof(Configs))]
    public async Task RunEventStream_ArrivesEventByEventThroughNginx_AndResumesAfterLastEventId(string config)
    {
        await using var nginx = await NginxProxy.StartAsync(port => config == "deploy"
            ? NginxProxy.DeployConfig(_gateway.BaseAddress, port)
            : NginxProxy.OrdinaryConfig(_gateway.BaseAddress, port));
        using var client = new HttpClient { BaseAddress = nginx.BaseAddress };
        var runId = await RunClient.StartInBackgroundAsync(client, $$"""
            {"flow":{"nodes":[{"id":"in","type":"input"},{"id":"talk","type":"llm","model":"lorem","prompt":"in","maxTokens":{{Tokens}}},
              {"id":"out","type":"output","from":["talk"]}]},"input":"go"}
            """);

        using var response = await RunClient.WatchAsync(client, runId);
        var clock = Stopwatch.StartNew();
        var events = new List<RunEventItem>();
        var arrivals = new List<TimeSpan>();
        await foreach (var item in RunClient.ReadAsync(response))
        {
            events.Add(item);
            if (item.Name == "token")
            {
                arrivals.Add(clock.Elapsed);
            }
        }

        Assert.Equal(Enumerable.Range(1, events.Count).Select(i => (long)i), events.Select(e => e.Id));
        Assert.Equal("run.completed", events[^1].Name);
        Assert.Equal(Tokens, arrivals.Count);
        Assert.True(arrivals[^1] - arrivals[0] > TimeSpan.FromMilliseconds(500),
            $"events arrived in a lump: first token at {arrivals[0].TotalMilliseconds:0} ms, last at {arrivals[^1].TotalMilliseconds:0} ms");

        using var resumed = await RunClient.WatchAsync(client, runId, lastEventId: 3);
        Assert.Equal(RunClient.Lines(events.Skip(3)), RunClient.Lines(await RunClient.ReadAllAsync(resumed)));
    }

    /// <summary>
    /// A non-streamed completion is silent until it is done, for up to the total timeout: an nginx that gives up
    /// sooner answers its own HTML 504 while the gateway still works, and the OpenAI SDKs then retry the whole call.
    /// </summary>
    [Theory]
    [InlineData("deploy/nginx.conf")]
    [InlineData("deploy/replicas/nginx.conf")]
    public void ShippedConfig_WaitsLongerThanTheGatewayMayStaySilent(string config)
    {
        var text = File.ReadAllText(Path.Combine(RepositoryRoot.Path, config));
        var match = System.Text.RegularExpressions.Regex.Match(text, @"proxy_read_timeout\s+(\d+)s;");

        Assert.True(match.Success, $"{config} sets no proxy_read_timeout in seconds");
        Assert.True(
            int.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) > new Gateway.Resilience.ResilienceOptions().TotalTimeoutSeconds,
            $"{config}: proxy_read_timeout {match.Groups[1].Value}s is not above the default total timeout");
    }
}
