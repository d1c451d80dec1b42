using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Runs;

/// <summary>
/// A replica told to stop (SIGTERM) lets its runs finish within the shutdown drain, and keeps their leases meanwhile,
/// so another replica does not take over a run that is still running, however short the lease.
/// </summary>
public sealed class ReplicaShutdownTests
{
    [Fact]
    public async Task ARunThatFinishesWithinTheDrain_Completes_EvenWhenTheDrainOutlastsItsLease()
    {
        await using var upstream = await FakeUpstream.StartAsync();
        upstream.DefaultScript = new UpstreamScript { Tokens = ["one ", "two ", "three ", "four ", "five ", "six "], TokenDelay = TimeSpan.FromMilliseconds(500) };
        var settings = await ReplicaPair.SettingsAsync(upstream);
        settings["Gateway:Cluster:LeaseSeconds"] = "2";
        settings["Gateway:Streaming:ShutdownDrainSeconds"] = "8";
        await using var stopping = await ReplicaPair.StartReplicaAsync(settings, "a");
        await using var other = await ReplicaPair.StartReplicaAsync(settings, "b");
        var runId = await RunClient.StartInBackgroundAsync(stopping.Client, ReplicaPair.RelayFlow);
        await ReplicaPair.WaitUntilAsync(() => upstream.Requests.Count == 1);

        var exitCode = await stopping.TerminateAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(0, exitCode);
        var record = await ReplicaPair.RecordAsync(other, runId);
        Assert.Equal("completed", record["status"]!.GetValue<string>());
        Assert.Equal("one two three four five six ", record["nodes"]!["talk"]!["output"]!.GetValue<string>());
        using var replay = await RunClient.WatchAsync(other.Client, runId);
        var events = await RunClient.ReadAllAsync(replay);
        Assert.Equal("run.completed", events[^1].Name);
        Assert.Equal(ReplicaPair.Ids(events.Count), events.Select(e => e.Id));
    }

    [Fact]
    public async Task AWatcherOfARunOnAnotherReplica_IsClosedAsTheGatewayStops_AndResumesOnTheOtherWithNoGap()
    {
        await using var upstream = await FakeUpstream.StartAsync();
        // 15 s: well past the watcher's close (SIGTERM + 1 s drain + 5 s), with room for a loaded machine.
        string[] words = [.. Enumerable.Range(1, 20).Select(n => $"w{n} ")];
        upstream.DefaultScript = new UpstreamScript { Tokens = words, TokenDelay = TimeSpan.FromMilliseconds(750) };
        var settings = await ReplicaPair.SettingsAsync(upstream);
        settings["Gateway:Streaming:ShutdownDrainSeconds"] = "1";
        await using var stopping = await ReplicaPair.StartReplicaAsync(settings, "a");
        await using var other = await ReplicaPair.StartReplicaAsync(settings, "b");
        var runId = await RunClient.StartInBackgroundAsync(other.Client, ReplicaPair.RelayFlow);
        using var watch = await RunClient.WatchAsync(stopping.Client, runId);
        var seen = new List<RunEventItem>();
        var reading = Task.Run(async () =>
        {
            await foreach (var item in RunClient.ReadAsync(watch))
            {
                lock (seen)
                {
                    seen.Add(item);
                }
            }
        });
        await ReplicaPair.WaitUntilAsync(() => { lock (seen) { return seen.Count(e => e.Name == "token") >= 2; } });

        Assert.Equal(0, await stopping.TerminateAsync(TimeSpan.FromSeconds(30)));
        await reading.WaitAsync(TimeSpan.FromSeconds(5));

        // Closed cleanly before the run ended, as an EventSource would then resume: from the last id, on the other replica.
        Assert.DoesNotContain(seen, e => RunClient.TerminalEvents.Contains(e.Name));
        using var resumed = await RunClient.WatchAsync(other.Client, runId, lastEventId: seen[^1].Id);
        var all = seen.Concat(await RunClient.ReadAllAsync(resumed)).ToList();
        Assert.Equal(ReplicaPair.Ids(all.Count), all.Select(e => e.Id));
        Assert.Equal("run.completed", all[^1].Name);
        Assert.Equal(string.Concat(words), RunClient.Tokens(all, "talk"));
    }
}
