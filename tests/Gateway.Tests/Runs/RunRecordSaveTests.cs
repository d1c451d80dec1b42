using Gateway.Runs;
using Gateway.Storage;
using Gateway.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.Tests.Runs;

/// <summary>
/// A run's record is saved whenever a node starts or ends, before the event is sent: whoever reads the record after an
/// event finds the event in it. A flow of 254 parallel nodes saved its record, megabytes by its end, ~760 times (13 s of
/// writes); the events the nodes have already sent when one is stored now share its save.
/// </summary>
public sealed class RunRecordSaveTests
{
    private const int Branches = 30;

    [Fact]
    public async Task NodesEndingTogether_ShareSavesOfTheRecord_AndEachNodeEventIsInTheRecordBeforeAWatcherGetsIt()
    {
        var saves = 0;
        await using var gateway = await GatewayHost.StartAsync(GatewayHost.SimulatedSettings(), services =>
        {
            services.AddSingleton<SqliteRunStore>();
            services.AddSingleton<IRunStore>(provider => new FlakyRunStore(provider.GetRequiredService<SqliteRunStore>())
            {
                // Slow saves: a watcher sent an event before its save would read the record before the save is done.
                BeforeSave = () =>
                {
                    Interlocked.Increment(ref saves);
                    return Task.Delay(20);
                },
            });
        });
        var branches = Enumerable.Range(0, Branches).Select(i => $$$"""{"id":"p{{{i}}}","type":"prompt","template":"{{in}} {{{i}}}"}""");
        var from = string.Join(",", Enumerable.Range(0, Branches).Select(i => $"\"p{i}\""));
        var run = $$"""
            {"flow":{"nodes":[{"id":"in","type":"input"},{{string.Join(",", branches)}},{"id":"out","type":"output","from":[{{from}}]}]},"input":"go"}
            """;

        using var response = await gateway.Client.SendAsync(RunClient.Request("/api/runs?stream=true", run), HttpCompletionOption.ResponseHeadersRead);
        var runId = response.Headers.GetValues(RunLauncher.RunIdHeader).Single();
        var nodeEvents = 0;
        await foreach (var item in RunClient.ReadAsync(response))
        {
            if (item.Name is not ("node.started" or "node.completed"))
            {
                continue;
            }

            nodeEvents++;
            var node = item.Data["node"]!.GetValue<string>();
            using var read = await gateway.Client.GetAsync($"/api/runs/{runId}");
            var record = await Json.ReadAsync(read);
            var status = record["nodes"]![node]!["status"]!.GetValue<string>();
            Assert.True(
                item.Name == "node.started" ? status is "running" or "completed" : status == "completed",
                $"{item.Name} of {node} (event {item.Id}) sent while the record said {status}");
        }

        Assert.Equal(2 * (Branches + 2), nodeEvents);
        Assert.InRange(saves, 1, Branches);
    }
}
