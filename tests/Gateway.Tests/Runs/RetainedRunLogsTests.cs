using System.Collections.Concurrent;
using Gateway.Runs;

namespace Gateway.Tests.Runs;

/// <summary>Finished runs' logs in memory: within the budget of event text, oldest first, the newest always kept.</summary>
public sealed class RetainedRunLogsTests
{
    private readonly ConcurrentDictionary<string, RunLog> _logs = new(StringComparer.Ordinal);

    [Fact]
    public void PastTheBudget_TheOldestGoFirst_AndTheNewestStays()
    {
        var retained = new RetainedRunLogs(_logs, budgetChars: 250);

        foreach (var runId in new[] { "a", "b", "c" })
        {
            retained.Keep(Finished(runId, chars: 100));
        }

        Assert.Equal(["b", "c"], _logs.Keys.Order());
        retained.Keep(Finished("d", chars: 1_000));
        Assert.Equal(["d"], _logs.Keys);
    }

    [Fact]
    public void ALogLetGoAtItsTime_NoLongerWeighs_SoTheOthersStay()
    {
        var retained = new RetainedRunLogs(_logs, budgetChars: 250);
        var first = Finished("a", chars: 100);
        retained.Keep(first);
        retained.Keep(Finished("b", chars: 100));

        retained.Expire(first);
        retained.Keep(Finished("c", chars: 100));

        Assert.Equal(["b", "c"], _logs.Keys.Order());
    }

    [Fact]
    public void AnExpiredLogOutOfOrder_IsGone_AndStillCountedOnlyUntilTheOnesBeforeItGo()
    {
        var retained = new RetainedRunLogs(_logs, budgetChars: 250);
        var first = Finished("a", chars: 100);
        var second = Finished("b", chars: 100);
        retained.Keep(first);
        retained.Keep(second);

        retained.Expire(second);
        Assert.Equal(["a"], _logs.Keys);
        retained.Expire(first);
        retained.Keep(Finished("c", chars: 100));
        retained.Keep(Finished("d", chars: 100));

        Assert.Equal(["c", "d"], _logs.Keys.Order());
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
