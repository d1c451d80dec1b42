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
}
