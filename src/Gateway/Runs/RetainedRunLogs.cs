using System.Collections.Concurrent;

namespace Gateway.Runs;

/// <summary>
/// Finished runs' logs kept in memory for <c>EventRetentionMinutes</c>, oldest first, with their weight: while they
/// weigh more than <c>EventRetentionMegabytes</c> of event text, the oldest are let go early (the newest always stays),
/// and their events are replayed from the store. The budget counts the events' text, not every byte the objects
/// around it take.
/// </summary>
/// <remarks>
/// Nothing of the expiry holds a finished log but this queue: it is one timer, armed for the oldest log's moment, not a
/// timer per run. A timer per run held its log for the whole retention, so a log let go early for the budget
/// stayed in memory anyway, and the budget bounded nothing.
/// </remarks>
internal sealed class RetainedRunLogs : IDisposable
{
    private readonly ConcurrentDictionary<string, RunLog> _logs;
    private readonly TimeSpan _retention;
    private readonly long _budgetChars;
    private readonly TimeProvider _timeProvider;
    private readonly Lock _gate = new();
    private readonly Queue<Kept> _kept = new();
    private readonly ITimer _expiry;
    private long _keptChars;
    private bool _isDisposed;

    /// <param name="logs">The live logs by run id, which a log leaves when it is let go.</param>
    /// <param name="retention">How long a finished log is kept at most.</param>
    /// <param name="budgetChars">The characters of event text kept at most.</param>
    /// <param name="timeProvider">The clock of the expiry.</param>
    public RetainedRunLogs(ConcurrentDictionary<string, RunLog> logs, TimeSpan retention, long budgetChars, TimeProvider timeProvider)
    {
        _logs = logs;
        _retention = retention;
        _budgetChars = budgetChars;
        _timeProvider = timeProvider;
        _expiry = timeProvider.CreateTimer(static state => ((RetainedRunLogs)state!).ExpireDue(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    /// <summary>Keeps a log that has just ended, letting the oldest go while the kept ones weigh too much.</summary>
    public void Keep(RunLog log)
    {
        var chars = log.Chars;
        lock (_gate)
        {
            if (_isDisposed || _retention <= TimeSpan.Zero)
            {
                LetGo(log);
                return;
            }

            _kept.Enqueue(new Kept(log, chars, _timeProvider.GetTimestamp()));
            _keptChars += chars;
            while (_keptChars > _budgetChars && _kept.Count > 1)
            {
                LetGo(Dequeue());
            }

            if (_kept.Count == 1)
            {
                ArmForOldest();
            }
        }
    }

    private void ExpireDue()
    {
        lock (_gate)
        {
            if (_isDisposed)
            {
                return;
            }

            // Logs are kept as they end, with one retention: the queue is in the order they expire.
            while (_kept.TryPeek(out var oldest) && _timeProvider.GetElapsedTime(oldest.KeptAt) >= _retention)
            {
                LetGo(Dequeue());
            }

            ArmForOldest();
        }
    }

    /// <summary>Under the lock: the timer fires when the oldest kept log expires; it rests while none is kept.</summary>
    private void ArmForOldest()
    {
        var due = _kept.TryPeek(out var oldest)
            ? TimeSpan.FromTicks(Math.Max(0, (_retention - _timeProvider.GetElapsedTime(oldest.KeptAt)).Ticks))
            : Timeout.InfiniteTimeSpan;
        _expiry.Change(due, Timeout.InfiniteTimeSpan);
    }

    private RunLog Dequeue()
    {
        var oldest = _kept.Dequeue();
        _keptChars -= oldest.Chars;
        return oldest.Log;
    }

    private void LetGo(RunLog log)
    {
        if (_logs.TryRemove(KeyValuePair.Create(log.RunId, log)))
        {
            log.Dispose();
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _isDisposed = true;
            _kept.Clear();
            _keptChars = 0;
        }

        _expiry.Dispose();
    }

    /// <param name="Log">A finished log.</param>
    /// <param name="Chars">What it weighs.</param>
    /// <param name="KeptAt">A timestamp (<see cref="TimeProvider.GetTimestamp"/>): a step of the wall clock moves no expiry.</param>
    private readonly record struct Kept(RunLog Log, long Chars, long KeptAt);
}
