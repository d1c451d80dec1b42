using System.Net;
using System.Text.Json.Nodes;
using Gateway.Runs;
using Gateway.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.Tests.Runs;

/// <summary>GET /api/runs writes its page one record at a time: records hold every output, and may weigh megabytes each.</summary>
public sealed class RunListTests
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 5, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task APageOfLargeRuns_ReachesTheCallerRecordByRecord_NewestFirst_NotReadWholeFirst()
    {
        FlakyRunStore? store = null;
        await using var gateway = await GatewayHost.StartAsync(GatewayHost.SimulatedSettings(), services =>
        {
            services.AddFlakyRunStore<Gateway.Storage.SqliteRunStore>(inner => store = new FlakyRunStore(inner));
        });
        var output = new string('w', 200_000);
        foreach (var (id, minute) in new[] { ("run-old", 0), ("run-mid", 1), ("run-new", 2) })
        {
            await store!.CreateAsync(LargeRun(id, T0.AddMinutes(minute), output), "anonymous", new RunLease("test", T0.AddHours(1)), CancellationToken.None);
        }

        // The oldest record is not read until the caller has the newest one: a list read whole first never starts.
        var newestArrived = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var readOneByOne = new System.Collections.Concurrent.ConcurrentQueue<string>();
        store!.BeforeGet = id =>
        {
            readOneByOne.Enqueue(id);
            return id == "run-old" ? newestArrived.Task : Task.CompletedTask;
        };
        using var response = await gateway.Client.GetAsync("/api/runs?flowId=large", HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        await using var body = await response.Content.ReadAsStreamAsync();
        var received = new MemoryStream();
        var buffer = new byte[64 * 1024];
        using (var patience = new CancellationTokenSource(TimeSpan.FromSeconds(10)))
        {
            while (!System.Text.Encoding.UTF8.GetString(received.ToArray()).Contains("\"run-mid\"", StringComparison.Ordinal))
            {
                var read = await body.ReadAsync(buffer, patience.Token);
                Assert.True(read > 0, "the page ended before its second record");
                received.Write(buffer, 0, read);
            }
        }

        newestArrived.SetResult();
        await body.CopyToAsync(received);

        var page = JsonNode.Parse(received.ToArray())!.AsArray();
        // Each record was read on its own, as it was written out: none came from one read of the whole page.
        Assert.Equal(["run-new", "run-mid", "run-old"], readOneByOne);
        Assert.Equal(["run-new", "run-mid", "run-old"], page.Select(run => run!["runId"]!.GetValue<string>()));
        Assert.All(page, run => Assert.Equal(output, run!["outputs"]!["say"]!.GetValue<string>()));
    }

    /// <summary>A HEAD reads the first record alone, which settles the status (a store that cannot be read is a 500).</summary>
    [Fact]
    public async Task Head_IsAnsweredAfterReadingThePagesFirstRecordAlone()
    {
        FlakyRunStore? store = null;
        await using var gateway = await GatewayHost.StartAsync(GatewayHost.SimulatedSettings(), services =>
        {
            services.AddFlakyRunStore<Gateway.Storage.SqliteRunStore>(inner => store = new FlakyRunStore(inner));
        });
        foreach (var (id, minute) in new[] { ("run-old", 0), ("run-mid", 1), ("run-new", 2) })
        {
            await store!.CreateAsync(LargeRun(id, T0.AddMinutes(minute), "words"), "anonymous", new RunLease("test", T0.AddHours(1)), CancellationToken.None);
        }

        var read = new System.Collections.Concurrent.ConcurrentQueue<string>();
        store!.BeforeGet = id =>
        {
            read.Enqueue(id);
            return Task.CompletedTask;
        };
        using var head = await gateway.Client.SendAsync(new HttpRequestMessage(HttpMethod.Head, "/api/runs?flowId=large"));

        Assert.Equal(HttpStatusCode.OK, head.StatusCode);
        Assert.Equal("application/json", head.Content.Headers.ContentType!.MediaType);
        Assert.Equal(["run-new"], read);
    }

    [Fact]
    public async Task APageOfLargeRuns_IsServedByAGatewayWithLessMemoryThanThePageWouldTakeWhole()
    {
        var database = GatewayHost.NewDatabasePath();
        var settings = GatewayHost.SimulatedSettings();
        settings[GatewayHost.StorageKey] = GatewayHost.ConnectionString(database);
        const int Runs = 100;
        var output = new string('w', 500_000); // held twice a record (its node and its outputs): 2 MB of text each
        await using (var seeding = await GatewayHost.StartAsync(settings))
        {
            var store = seeding.Services.GetRequiredService<IRunStore>();
            for (var i = 0; i < Runs; i++)
            {
                await store.CreateAsync(LargeRun($"run-{i:D2}", T0.AddMinutes(i), output), "anonymous", new RunLease("test", T0.AddHours(1)), CancellationToken.None);
            }
        }

        // 128 MB of heap: the page read whole holds 100 records of 2 MB of text, and ran out of memory (a 500, every time).
        settings["DOTNET_GCHeapHardLimit"] = "0x8000000";
        await using var gateway = await GatewayProcess.StartAsync(settings);
        using var response = await gateway.Client.GetAsync("/api/runs?flowId=large&limit=100", HttpCompletionOption.ResponseHeadersRead);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var page = await System.Text.Json.JsonDocument.ParseAsync(await response.Content.ReadAsStreamAsync());
        Assert.Equal(
            Enumerable.Range(0, Runs).Reverse().Select(i => $"run-{i:D2}"),
            page.RootElement.EnumerateArray().Select(run => run.GetProperty("runId").GetString()));
        Assert.All(page.RootElement.EnumerateArray(), run => Assert.Equal(output.Length, run.GetProperty("outputs").GetProperty("say").GetString()!.Length));
    }

    private static RunRecord LargeRun(string id, DateTimeOffset createdAt, string output) => new()
    {
        RunId = id,
        FlowId = "large",
        Status = RunStatus.Completed,
        CreatedAt = createdAt,
        CompletedAt = createdAt,
        Outputs = new Dictionary<string, string> { ["say"] = output },
        Nodes = new Dictionary<string, NodeRecord> { ["say"] = new() { Status = NodeStatus.Completed, Output = output } },
        Usage = TokenUsage.Zero,
    };
}
