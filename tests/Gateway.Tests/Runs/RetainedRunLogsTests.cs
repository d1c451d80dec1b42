using System.Collections.Concurrent;
using Gateway.Runs;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Runs;

/// <summary>Finished runs' logs in memory: for their retention, within the budget of event text, oldest first, the newest always kept.</summary>
public sealed class RetainedRunLogsTests
{
    private static readonly TimeSpan Hour = TimeSpan.FromHours(1);
    private readonly ConcurrentDictionary<string, RunLog> _logs = new(StringComparer.Ordinal);
    private readonly FakeTimeProvider _clock = new();

    [Fact]
    public void PastTheBudget_TheOldestGoFirst_AndTheNewestStays()
    {
        using var retained = new RetainedRunLogs(_logs, Hour, budgetChars: 250, _clock);

        foreach (var runId in new[] { "a", "b", "c" })
        {
            retained.Keep(Finished(runId, chars: 100));
        }

        Assert.Equal(["b", "c"], _logs.Keys.Order());
        retained.Keep(Finished("d", chars: 1_000));
        Assert.Equal(["d"], _logs.Keys);
    }

    [Fact]
    public void EachLogGoesWhenItsRetentionIsUp_AndNoLongerWeighs()
    {
        using var retained = new RetainedRunLogs(_logs, Hour, budgetChars: 250, _clock);
        retained.Keep(Finished("a", chars: 100));
        _clock.Advance(TimeSpan.FromMinutes(40));
        retained.Keep(Finished("b", chars: 100));

        _clock.Advance(TimeSpan.FromMinutes(20));
        Assert.Equal(["b"], _logs.Keys);
        retained.Keep(Finished("c", chars: 100)); // b and c weigh 200: both stay
        Assert.Equal(["b", "c"], _logs.Keys.Order());

        _clock.Advance(TimeSpan.FromMinutes(40));
        Assert.Equal(["c"], _logs.Keys);
        _clock.Advance(TimeSpan.FromMinutes(20));
        Assert.Empty(_logs);
        Assert.Equal(0, _clock.PendingTimers);
    }

    [Fact]
    public void ALogLetGoForTheBudget_LeavesNoTimerBehind()
    {
        using var retained = new RetainedRunLogs(_logs, Hour, budgetChars: 250, _clock);
        for (var i = 0; i < 10; i++)
        {
            retained.Keep(Finished($"run{i}", chars: 200));
        }

        // One timer for all of them, not one per run holding its log for the whole hour.
        Assert.Equal(1, _clock.PendingTimers);
        Assert.Equal(["run9"], _logs.Keys);
    }

    [Fact]
    public void WithNoRetention_ALogGoesAsItEnds()
    {
        using var retained = new RetainedRunLogs(_logs, TimeSpan.Zero, budgetChars: 250, _clock);

        retained.Keep(Finished("a", chars: 100));

        Assert.Empty(_logs);
    }

    /// <summary>A log whose one event holds <paramref name="chars"/> characters of name and data, registered live.</summary>
    private RunLog Finished(string runId, int chars)
    {
        var log = new RunLog(runId, grace: null, TimeProvider.System);
        log.Append(new RunEventEntry(1, "run.completed", new string('x', chars - "run.completed".Length)));
        log.End(finished: null);
        _logs[runId] = log;
        return log;
    }
}
