using System.Globalization;
using System.Net;
using Gateway.Runs;
using Gateway.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.Tests.Runs;

/// <summary><c>GET /api/runs/{runId}/events</c>: resuming, many watchers, finished runs.</summary>
public sealed class RunWatchTests
{
    private static string Lorem(int tokens) => $$"""
        {"flow":{"id":"lorem","nodes":[{"id":"in","type":"input"},{"id":"talk","type":"llm","model":"lorem","prompt":"in","maxTokens":{{tokens}}},
          {"id":"out","type":"output","from":["talk"]}]},"input":"go"}
        """;

    private static Dictionary<string, string?> Settings(int tokenDelayMs, string retentionMinutes = "60")
    {
        var settings = GatewayHost.SimulatedSettings(tokenDelayMs);
        settings["Gateway:Streaming:EventRetentionMinutes"] = retentionMinutes;
        return settings;
    }

    [Fact]
    public async Task ResumeWithLastEventIdMidRun_YieldsExactlyTheMissingEvents_ThenFollowsToTheEnd()
    {
        await using var gateway = await GatewayHost.StartAsync(Settings(tokenDelayMs: 20));
        // No draining: disposing the response closes the connection, as a dropped network does.
        using var client = new HttpClient(new SocketsHttpHandler { MaxResponseDrainSize = 0 }) { BaseAddress = gateway.BaseAddress };
        var response = await client.SendAsync(RunClient.Request("/api/runs", Lorem(30)), HttpCompletionOption.ResponseHeadersRead);
        var runId = response.Headers.GetValues("X-Run-Id").Single();
        var before = new List<RunEventItem>();
        await foreach (var item in RunClient.ReadAsync(response))
        {
            before.Add(item);
            if (item.Name == "token" && before.Count(e => e.Name == "token") == 5)
            {
                break;
            }
        }

        response.Dispose();

        using var resumed = await RunClient.WatchAsync(client, runId, lastEventId: before[^1].Id);
        var after = await RunClient.ReadAllAsync(resumed);

        var all = before.Concat(after).ToList();
        Assert.Equal(Enumerable.Range(1, all.Count).Select(i => (long)i), all.Select(e => e.Id));
        Assert.Equal("run.completed", all[^1].Name);
        Assert.Equal(30, all.Count(e => e.Name == "token"));
        var log = await gateway.Services.GetRequiredService<IRunStore>().GetEventsAsync(runId, 0, CancellationToken.None);
        Assert.Equal(log.Select(e => $"{e.Id} {e.Name}"), all.Select(e => $"{e.Id} {e.Name}"));
    }

    /// <summary>
    /// A caller may hold a run's terminal event (read through another replica's follower) before the replica running it
    /// has put it in its live log: the event and the final record are stored first. Resuming after it is a 204, as after
    /// any ended run; until 2026-12-06 (night) it was a 200 stream with nothing in it, which a race probe caught.
    /// </summary>
    [Fact]
    public async Task ResumingAfterATerminalEventStoredButNotYetLoggedHere_Is204_NotAnEmptyStream()
    {
        var stored = new TaskCompletionSource<RunEventEntry>(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var gateway = await GatewayHost.StartAsync(Settings(tokenDelayMs: 0), services =>
        {
            services.AddFlakyRunStore<Gateway.Storage.SqliteRunStore>(inner => new FlakyRunStore(inner)
            {
                AfterFinish = terminal =>
                {
                    stored.TrySetResult(terminal);
                    return release.Task;
                },
            });
        });
        var runId = await RunClient.StartInBackgroundAsync(gateway.Client, Lorem(3));
        var terminal = await stored.Task.WaitAsync(TimeSpan.FromSeconds(10));

        using var resumed = await RunClient.WatchAsync(gateway.Client, runId, lastEventId: terminal.Id);
        release.SetResult();

        Assert.Equal("run.completed", terminal.Name);
        Assert.Equal(HttpStatusCode.NoContent, resumed.StatusCode);
    }

    /// <param name="retentionMinutes">60: replayed from the live log; 0: gone from memory, replayed from the store.</param>
    [Theory]
    [InlineData("60")]
    [InlineData("0")]
    public async Task FinishedRun_AfterN_ReplaysTheEventsAfterN_ThroughTheTerminalEvent(string retentionMinutes)
    {
        await using var gateway = await GatewayHost.StartAsync(Settings(tokenDelayMs: 0, retentionMinutes));
        var (response, full) = await RunClient.RunAsync(gateway.Client, "/api/runs", Lorem(8));
        var runId = response.Headers.GetValues("X-Run-Id").Single();
        response.Dispose();

        using var replay = await gateway.Client.GetAsync($"/api/runs/{runId}/events?after=3", HttpCompletionOption.ResponseHeadersRead);
        var events = await RunClient.ReadAllAsync(replay);

        Assert.Equal(HttpStatusCode.OK, replay.StatusCode);
        Assert.Equal("text/event-stream", replay.Content.Headers.ContentType!.MediaType);
        Assert.Equal(RunClient.Lines(full.Skip(3)), RunClient.Lines(events));
    }

    [Fact]
    public async Task FinishedRunsWeighingMoreThanTheRetentionBudget_LeaveMemoryOldestFirst_AndReplayFromTheStore()
    {
        var settings = Settings(tokenDelayMs: 0);
        // About 4 KiB, less than a run of 200 lorem words weighs: only the newest stays, as the newest always does.
        settings["Gateway:Streaming:EventRetentionMegabytes"] = "0.004";
        await using var gateway = await GatewayHost.StartAsync(settings);
        var live = gateway.Services.GetRequiredService<LiveRuns>();
        var runs = new List<(string RunId, List<RunEventItem> Events)>();
        for (var i = 0; i < 3; i++)
        {
            var (response, events) = await RunClient.RunAsync(gateway.Client, "/api/runs", Lorem(200));
            runs.Add((response.Headers.GetValues("X-Run-Id").Single(), events));
            response.Dispose();
        }

        Assert.Equal([false, false, true], runs.Select(run => live.TryGet(run.RunId, out _)));
        foreach (var (runId, events) in runs)
        {
            using var replay = await gateway.Client.GetAsync($"/api/runs/{runId}/events", HttpCompletionOption.ResponseHeadersRead);
            Assert.Equal(RunClient.Lines(events), RunClient.Lines(await RunClient.ReadAllAsync(replay)));
        }
    }

    [Theory]
    [InlineData("", null)]
    [InlineData("?after=", null)]
    [InlineData("?after=3", "")] // an empty header is no header: the query decides
    public async Task AnEmptyResumePoint_IsNoResumePoint(string query, string? lastEventId)
    {
        await using var gateway = await GatewayHost.StartAsync(Settings(tokenDelayMs: 0));
        var (response, full) = await RunClient.RunAsync(gateway.Client, "/api/runs", Lorem(4));
        var runId = response.Headers.GetValues("X-Run-Id").Single();
        response.Dispose();
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/api/runs/{runId}/events{query}");
        if (lastEventId is not null)
        {
            request.Headers.TryAddWithoutValidation("Last-Event-ID", lastEventId);
        }

        using var replay = await gateway.Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        var events = await RunClient.ReadAllAsync(replay);

        Assert.Equal(HttpStatusCode.OK, replay.StatusCode);
        Assert.Equal(RunClient.Lines(full.Skip(query == "?after=3" ? 3 : 0)), RunClient.Lines(events));
    }

    /// <param name="retentionMinutes">60: the live log; 0: gone from memory, the store.</param>
    [Theory]
    [InlineData("60")]
    [InlineData("0")]
    public async Task FinishedRun_ResumedAtOrPastItsTerminalEvent_Is204_SoAnEventSourceStopsReconnecting(string retentionMinutes)
    {
        await using var gateway = await GatewayHost.StartAsync(Settings(tokenDelayMs: 0, retentionMinutes));
        var (response, full) = await RunClient.RunAsync(gateway.Client, "/api/runs", Lorem(3));
        var runId = response.Headers.GetValues("X-Run-Id").Single();
        response.Dispose();
        Assert.Equal("run.completed", full[^1].Name);

        using var reconnected = await RunClient.WatchAsync(gateway.Client, runId, lastEventId: full[^1].Id);
        using var past = await gateway.Client.GetAsync($"/api/runs/{runId}/events?after={full[^1].Id + 5}");
        using var before = await RunClient.WatchAsync(gateway.Client, runId, lastEventId: full[^1].Id - 1);

        Assert.Equal(HttpStatusCode.NoContent, reconnected.StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, past.StatusCode);
        Assert.Equal(["run.completed"], (await RunClient.ReadAllAsync(before)).Select(e => e.Name));
    }

    /// <summary>
    /// A HEAD answers as the stream would start (200, or 204 for a caller who has every event) without reading the
    /// events: a finished run gone from memory is not read back from the store for it.
    /// </summary>
    /// <param name="inMemory">True: the newest run, its log still in memory; false: an older one, let go for the budget.</param>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task FinishedRun_Head_IsTheStreamsStatusAndHeaders_WithoutReadingItsEventsBack(bool inMemory)
    {
        var settings = Settings(tokenDelayMs: 0);
        // Less than a run weighs: only the newest run's log stays in memory, as the newest always does.
        settings["Gateway:Streaming:EventRetentionMegabytes"] = "0.0001";
        await using var gateway = await GatewayHost.StartAsync(settings);
        var runs = new List<(string RunId, long LastId)>();
        for (var i = 0; i < 2; i++)
        {
            var (response, events) = await RunClient.RunAsync(gateway.Client, "/api/runs", Lorem(20));
            runs.Add((response.Headers.GetValues("X-Run-Id").Single(), events[^1].Id));
            response.Dispose();
        }

        var live = gateway.Services.GetRequiredService<LiveRuns>();
        var (runId, lastId) = runs[inMemory ? 1 : 0];
        Assert.Equal(inMemory, live.TryGet(runId, out _));

        using var head = await gateway.Client.SendAsync(new HttpRequestMessage(HttpMethod.Head, $"/api/runs/{runId}/events"));
        using var allSent = await gateway.Client.SendAsync(new HttpRequestMessage(HttpMethod.Head, $"/api/runs/{runId}/events?after={lastId}"));

        Assert.Equal(HttpStatusCode.OK, head.StatusCode);
        Assert.Equal("text/event-stream", head.Content.Headers.ContentType!.MediaType);
        Assert.Equal(runId, head.Headers.GetValues("X-Run-Id").Single());
        Assert.Equal(HttpStatusCode.NoContent, allSent.StatusCode);
        Assert.Equal(inMemory, live.TryGet(runId, out _));
        Assert.True(live.TryGet(runs[1].RunId, out _)); // the newest, not let go for a log read back
    }

    /// <summary>
    /// A cursor past every event is one however many digits it has: until 2026-12-07 one past the largest long was a
    /// 400 "must be an event id" where the largest long itself, and any id past the end, was a 204.
    /// </summary>
    /// <param name="retentionMinutes">60: the live log; 0: gone from memory, the store.</param>
    /// <param name="cursor">The id the caller names.</param>
    /// <param name="asHeader">Named in Last-Event-ID rather than ?after=.</param>
    [Theory]
    [InlineData("60", "9223372036854775807", false)]
    [InlineData("60", "9223372036854775808", false)]
    [InlineData("60", "99999999999999999999", false)]
    [InlineData("60", "99999999999999999999", true)]
    [InlineData("0", "9223372036854775807", false)]
    [InlineData("0", "99999999999999999999", false)]
    [InlineData("0", "99999999999999999999", true)]
    public async Task FinishedRun_ACursorPastEveryEvent_Is204_HoweverManyDigitsItHas(string retentionMinutes, string cursor, bool asHeader)
    {
        await using var gateway = await GatewayHost.StartAsync(Settings(tokenDelayMs: 0, retentionMinutes));
        var (response, _) = await RunClient.RunAsync(gateway.Client, "/api/runs", Lorem(3));
        var runId = response.Headers.GetValues("X-Run-Id").Single();
        response.Dispose();

        using var past = await gateway.Client.SendAsync(Resume(runId, asHeader ? null : cursor, asHeader ? cursor : null));

        Assert.Equal(HttpStatusCode.NoContent, past.StatusCode);
        Assert.Equal(runId, past.Headers.GetValues("X-Run-Id").Single());
    }

    /// <summary>On a run still going, the same cursor is the 400 of any id it has not sent, naming it as the caller wrote it.</summary>
    [Theory]
    [InlineData("9223372036854775807", false)]
    [InlineData("99999999999999999999", false)]
    [InlineData("99999999999999999999", true)]
    public async Task RunningRun_ACursorPastEveryEvent_Is400NamingIt_HoweverManyDigitsItHas(string cursor, bool asHeader)
    {
        // A run of 100 s: still going while the test asks, however loaded the machine. The host's disposal ends it.
        await using var gateway = await GatewayHost.StartAsync(Settings(tokenDelayMs: 20));
        var runId = await RunClient.StartInBackgroundAsync(gateway.Client, Lorem(5000));

        using var past = await gateway.Client.SendAsync(Resume(runId, asHeader ? null : cursor, asHeader ? cursor : null));

        Assert.Equal(HttpStatusCode.BadRequest, past.StatusCode);
        Assert.Equal(
            $"The run has sent no event with id {cursor}: ids count up from 1 as events are sent.",
            (await Json.ReadAsync(past))["errors"]![asHeader ? "Last-Event-ID" : "after"]![0]!.GetValue<string>());
        Assert.Equal(runId, past.Headers.GetValues("X-Run-Id").Single());
    }

    /// <summary>
    /// An EventSource (a browser's, the eventsource package's) reconnects to the URL it was opened with, its ?after=
    /// included, and adds Last-Event-ID with the last id it received: the header is where the caller is, the query where
    /// it started. Either way round, the header decides.
    /// </summary>
    [Theory]
    [InlineData(2, 5)]
    [InlineData(5, 2)]
    public async Task ACursorInBothTheQueryAndLastEventId_TheHeaderDecides(long after, long lastEventId)
    {
        await using var gateway = await GatewayHost.StartAsync(Settings(tokenDelayMs: 0));
        var (response, full) = await RunClient.RunAsync(gateway.Client, "/api/runs", Lorem(8));
        var runId = response.Headers.GetValues("X-Run-Id").Single();
        response.Dispose();

        using var resumed = await gateway.Client.SendAsync(
            Resume(runId, after.ToString(CultureInfo.InvariantCulture), lastEventId.ToString(CultureInfo.InvariantCulture)),
            HttpCompletionOption.ResponseHeadersRead);

        Assert.Equal(HttpStatusCode.OK, resumed.StatusCode);
        Assert.Equal(RunClient.Lines(full.Skip((int)lastEventId)), RunClient.Lines(await RunClient.ReadAllAsync(resumed)));
    }

    private static HttpRequestMessage Resume(string runId, string? after, string? lastEventId)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, $"/api/runs/{runId}/events{(after is null ? "" : $"?after={after}")}");
        if (lastEventId is not null)
        {
            request.Headers.Add("Last-Event-ID", lastEventId);
        }

        return request;
    }

    [Fact]
    public async Task RunningRun_ResumedPastItsLastEvent_Is400_AndOneFromAnEventItSentFollowsOn()
    {
        // A run of 100 s: still going while the test asks, however loaded the machine. The host's disposal ends it.
        await using var gateway = await GatewayHost.StartAsync(Settings(tokenDelayMs: 20));
        var runId = await RunClient.StartInBackgroundAsync(gateway.Client, Lorem(5000));

        using var past = await gateway.Client.GetAsync($"/api/runs/{runId}/events?after=100000");
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/api/runs/{runId}/events");
        request.Headers.Add("Last-Event-ID", "100000");
        using var pastByHeader = await gateway.Client.SendAsync(request);
        using var atStart = await RunClient.WatchAsync(gateway.Client, runId, lastEventId: 1);

        Assert.Equal(HttpStatusCode.BadRequest, past.StatusCode);
        Assert.Equal(
            "The run has sent no event with id 100000: ids count up from 1 as events are sent.",
            (await Json.ReadAsync(past))["errors"]!["after"]![0]!.GetValue<string>());
        Assert.Equal(runId, past.Headers.GetValues("X-Run-Id").Single()); // an answer about the run, as its 200 and 204 are
        Assert.Equal(HttpStatusCode.BadRequest, pastByHeader.StatusCode);
        Assert.NotNull((await Json.ReadAsync(pastByHeader))["errors"]!["Last-Event-ID"]);
        var events = new List<RunEventItem>();
        await foreach (var item in RunClient.ReadAsync(atStart))
        {
            events.Add(item);
            if (events.Count == 5)
            {
                break;
            }
        }

        Assert.Equal([2L, 3L, 4L, 5L, 6L], events.Select(e => e.Id));
    }

    [Fact]
    public async Task RunningRun_ResumedFromTheIdAfterItsLastEvent_Is400_NotAWatchThatSkipsThatEvent()
    {
        // The model's first token is a minute away: the run's last event stays node.started of its llm node.
        await using var gateway = await GatewayHost.StartAsync(Settings(tokenDelayMs: 60_000));
        var runId = await RunClient.StartInBackgroundAsync(gateway.Client, Lorem(5));
        long last;
        using (var watch = await RunClient.WatchAsync(gateway.Client, runId))
        {
            last = (await RunClient.ReadAsync(watch).FirstAsync(e => e.Name == "node.started" && e.Node == "talk")).Id;
        }

        using var offByOne = await gateway.Client.GetAsync($"/api/runs/{runId}/events?after={last + 1}");
        using var fromTheLast = await gateway.Client.GetAsync($"/api/runs/{runId}/events?after={last}", HttpCompletionOption.ResponseHeadersRead);

        Assert.Equal(HttpStatusCode.BadRequest, offByOne.StatusCode);
        Assert.Equal(
            $"The run has sent no event with id {last + 1}: ids count up from 1 as events are sent.",
            (await Json.ReadAsync(offByOne))["errors"]!["after"]![0]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.OK, fromTheLast.StatusCode);
    }

    [Fact]
    public async Task TwoWatchers_SeeIdenticalSequences_FromTheFirstEventToTheTerminalOne()
    {
        await using var gateway = await GatewayHost.StartAsync(Settings(tokenDelayMs: 10));
        var runId = await RunClient.StartInBackgroundAsync(gateway.Client, Lorem(40));

        using var first = await RunClient.WatchAsync(gateway.Client, runId);
        using var second = await RunClient.WatchAsync(gateway.Client, runId);
        var seen = await Task.WhenAll(RunClient.ReadAllAsync(first), RunClient.ReadAllAsync(second));

        Assert.Equal(RunClient.Lines(seen[0]), RunClient.Lines(seen[1]));
        Assert.Equal(Enumerable.Range(1, seen[0].Count).Select(i => (long)i), seen[0].Select(e => e.Id));
        Assert.Equal("run.completed", seen[0][^1].Name);
    }

    [Fact]
    public async Task StalledWatcher_DoesNotDelayTheOther_AndCatchesUpWithEveryEventAfterwards()
    {
        await using var gateway = await GatewayHost.StartAsync(Settings(tokenDelayMs: 5));
        var runId = await RunClient.StartInBackgroundAsync(gateway.Client, Lorem(60));

        // Connected, then reads nothing until the run is over.
        using var stalled = await RunClient.WatchAsync(gateway.Client, runId);
        using var reading = await RunClient.WatchAsync(gateway.Client, runId);
        var live = await RunClient.ReadAllAsync(reading);
        Assert.Equal("run.completed", live[^1].Name);

        var caughtUp = await RunClient.ReadAllAsync(stalled);
        Assert.Equal(RunClient.Lines(live), RunClient.Lines(caughtUp));
    }

    [Fact]
    public void RunLog_AWatcherThatNeverReads_NeitherBlocksTheRunNorTheOtherWatcher()
    {
        using var log = new RunLog("run-x", grace: null, TimeProvider.System);
        using var stalled = log.Attach(afterId: 0, TimeSpan.FromMinutes(1));
        using var reading = log.Attach(afterId: 0, TimeSpan.FromMinutes(1));
        var batch = new List<RunEventEntry>();
        var received = new List<long>();
        for (var id = 1L; id <= 100_000; id++)
        {
            log.Append(new RunEventEntry(id, "token", "{}"));
            if (id % 1000 == 0)
            {
                reading.Read(batch);
                received.AddRange(batch.Select(e => e.Id));
            }
        }

        log.End(finished: null);

        Assert.True(reading.Read(batch));
        Assert.Empty(batch);
        Assert.Equal(Enumerable.Range(1, 100_000).Select(i => (long)i), received);
        Assert.Equal(0, stalled.LastId);
        Assert.True(stalled.Read(batch));
        Assert.Equal(100_000, batch.Count);
    }

    [Theory]
    [InlineData("?after=-1", null, "after")]
    [InlineData("?after=abc", null, "after")]
    [InlineData("?after=1%00", null, "after")] // long.TryParse forgives a trailing NUL: this was event 1
    [InlineData("?after=%2B1", null, "after")]
    [InlineData("?after=99999999999999999999x", null, "after")] // past a long, but not a number
    [InlineData("?after=2", "x7", "Last-Event-ID")]
    public async Task BadResumePoint_Is400_NamingWhereItCameFrom(string query, string? lastEventId, string parameter)
    {
        await using var gateway = await GatewayHost.StartAsync(Settings(tokenDelayMs: 0));
        var runId = await RunClient.StartInBackgroundAsync(gateway.Client, Lorem(1));
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/api/runs/{runId}/events{query}");
        if (lastEventId is not null)
        {
            request.Headers.Add("Last-Event-ID", lastEventId);
        }

        using var response = await gateway.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.NotNull((await Json.ReadAsync(response))["errors"]![parameter]);
        Assert.Equal(runId, response.Headers.GetValues("X-Run-Id").Single()); // an answer about a run the caller may see
    }

    [Fact]
    public async Task UnknownRun_Is404()
    {
        await using var gateway = await GatewayHost.StartAsync(Settings(tokenDelayMs: 0));

        using var response = await gateway.Client.GetAsync("/api/runs/run-missing/events");
        using var badResume = await gateway.Client.GetAsync("/api/runs/run-missing/events?after=-1");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, badResume.StatusCode); // not a 400 that tells nothing of whether it exists
    }
}
