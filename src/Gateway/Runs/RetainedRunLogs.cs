using System.Collections.Concurrent;

namespace Gateway.Runs;

/// <summary>
/// Finished runs' logs kept in memory for their <c>EventRetentionMinutes</c>, oldest first, with their weight: while
/// they weigh more than <c>EventRetentionMegabytes</c> of event text, the oldest are let go early (the newest always
/// stays), and their events are replayed from the store. A busy gateway's hour of runs was held whatever it weighed.
/// The budget counts the events' text, not every byte the objects around it take.
/// </summary>
/// <param name="logs">The live logs by run id, which a log leaves when it is let go.</param>
/// <param name="budgetChars">The characters of event text kept at most.</param>
internal sealed class RetainedRunLogs(ConcurrentDictionary<string, RunLog> logs, long budgetChars)
{
    private readonly Lock _gate = new();
    private readonly Queue<(RunLog Log, long Chars)> _kept = new();
    private long _keptChars;

    /// <summary>Keeps a log that has just ended, letting the oldest go while the kept ones weigh too much.</summary>
    public void Keep(RunLog log)
    {
        var chars = log.Chars;
        lock (_gate)
        {
            _kept.Enqueue((log, chars));
            _keptChars += chars;
            while (_keptChars > budgetChars && _kept.Count > 1)
            {
                var (oldest, oldestChars) = _kept.Dequeue();
                _keptChars -= oldestChars;
                LetGo(oldest);
            }
        }
    }

    /// <summary>Lets a log go when its retention is up.</summary>
    public void Expire(RunLog log)
    {
        LetGo(log);
        lock (_gate)
        {
            // Logs end, and so expire, in about the order they were kept: the ones at the front are gone by now.
            while (_kept.TryPeek(out var oldest) && !IsLive(oldest.Log))
            {
                _keptChars -= _kept.Dequeue().Chars;
            }
        }
    }

    private bool IsLive(RunLog log) => logs.TryGetValue(log.RunId, out var current) && ReferenceEquals(current, log);

    private void LetGo(RunLog log)
    {
        if (logs.TryRemove(KeyValuePair.Create(log.RunId, log)))
        {
            log.Dispose();
        }
    }
}
