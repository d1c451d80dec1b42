using Gateway.Runs;
using Gateway.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.Tests.Runs;

/// <summary>Runs cut short still end with exactly one terminal event in their log.</summary>
public sealed class RunCancellationTests : IDisposable
{
    private static readonly string LongRun = RunClient.LoremRun(maxTokens: 400);

    private readonly string _database = GatewayHost.NewDatabasePath();

    private Dictionary<string, string?> Settings()
    {
        var settings = GatewayHost.SimulatedSettings(tokenDelayMs: 25);
        settings[GatewayHost.StorageKey] = GatewayHost.ConnectionString(_database);
        // A client that leaves cancels the run at once: no other watcher is given time to attach.
        settings["Gateway:Streaming:DisconnectGraceSeconds"] = "0";
        return settings;
    }

    [Fact]
    public async Task ClientDisconnectsMidStream_RunEndsCancelled_AndItsLogEndsWithRunCancelled()
    {
        await using var gateway = await GatewayHost.StartAsync(Settings());
        // No draining: disposing the response closes the connection, as a closed browser tab does.
        using var client = new HttpClient(new SocketsHttpHandler { MaxResponseDrainSize = 0 }) { BaseAddress = gateway.BaseAddress };
        var response = await client.SendAsync(RunClient.Request("/api/runs", LongRun), HttpCompletionOption.ResponseHeadersRead);
        var runId = response.Headers.GetValues("X-Run-Id").Single();
        var tokens = 0;
        await foreach (var item in Sse.ReadAsync(response))
        {
            if (item.EventType == "token" && ++tokens == 3)
            {
                break;
            }
        }

        response.Dispose();

        var record = await WaitForEndAsync(gateway, runId);
        Assert.Equal("cancelled", record.Status);
        Assert.Equal("cancelled", record.Nodes["talk"].Status);
        // Cut off, the model reported no usage: the node shows what it was counted with, at least the three tokens
        // read (more may have come before the cancel reached it), and the prompt "go" (one token by the estimate).
        var spent = record.Nodes["talk"].Usage!;
        Assert.Equal(1, spent.InputTokens);
        Assert.InRange(spent.OutputTokens, 3, 400);
        Assert.Equal(spent, record.Usage);
        var log = await gateway.Services.GetRequiredService<IRunStore>().GetEventsAsync(runId, 0, CancellationToken.None);
        Assert.Equal(Enumerable.Range(1, log.Count).Select(i => (long)i), log.Select(e => e.Id));
        Assert.Equal("run.cancelled", log[^1].Name);
        Assert.Single(log, e => RunClient.TerminalEvents.Contains(e.Name));
    }

    [Fact]
    public async Task GatewayStopsDuringABackgroundRun_TheRunIsInterruptedAndLogged()
    {
        string runId;
        await using (var gateway = await GatewayHost.StartAsync(Settings()))
        {
            using var response = await gateway.Client.PostAsync("/api/runs?background=true", Json.Body(LongRun));
            runId = response.Headers.GetValues("X-Run-Id").Single();
        }

        await using var restarted = await GatewayHost.StartAsync(Settings());

        var log = await restarted.Services.GetRequiredService<IRunStore>().GetEventsAsync(runId, 0, CancellationToken.None);
        Assert.Equal("run.failed", log[^1].Name);
        var record = (await restarted.Services.GetRequiredService<IRunStore>().GetAsync(runId, CancellationToken.None))!;
        Assert.Equal("interrupted", record.Status);
        // Ended by the stopping gateway itself, not found cut off by the next start.
        Assert.Equal(FlowRun.ShutDown, record.Error!.Message);
    }

    private static async Task<RunRecord> WaitForEndAsync(GatewayHost gateway, string runId)
    {
        var store = gateway.Services.GetRequiredService<IRunStore>();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        while (true)
        {
            if (await store.GetAsync(runId, timeout.Token) is { Status: not RunStatus.Running } record)
            {
                return record;
            }

            await Task.Delay(20, timeout.Token);
        }
    }

    public void Dispose() => GatewayHost.DeleteDatabase(_database);
}
