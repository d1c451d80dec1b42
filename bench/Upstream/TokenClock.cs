using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Bench.Upstream;

/// <summary>
/// Wakes each stream when its next token is due, to within about a tenth of a millisecond, from one thread.
/// <see cref="Task.Delay(TimeSpan)"/> cannot: .NET's timers fall due only on the steps of a coarse clock (4 ms here,
/// the kernel's tick, as far as measured), so a 5 ms delay took 8 ms on average, and every stream's tokens (in every
/// .NET process on the machine) fell due on the same step. The simulator then sent all its streams' tokens in one
/// burst per step, and a new request, which a closed-loop client sends as its last stream ends, always arrived
/// inside a burst.
/// </summary>
internal sealed partial class TokenClock
{
    private readonly PriorityQueue<TaskCompletionSource, long> _due = new();
    private readonly object _gate = new(); // Monitor, not Lock: the thread waits on it while nothing is due
    private readonly List<TaskCompletionSource> _ready = [];

    // The longest sleep. A wait added while the thread sleeps is normally due later than that: streams add their
    // next wait one delay ahead. Only a stream that is already late can add one due sooner, and it then waits at most
    // until the thread wakes, never past the earliest time the thread knew of.
    private readonly long _maxSleepMicroseconds;

    public TokenClock(TimeSpan shortestDelay)
    {
        _maxSleepMicroseconds = Math.Max(1, (long)shortestDelay.TotalMicroseconds);
        new Thread(Run) { IsBackground = true, Name = "Token clock" }.Start();
    }

    /// <summary>Completes at <paramref name="timestamp"/> (<see cref="Stopwatch.GetTimestamp"/>), on the thread pool.</summary>
    public Task WaitUntilAsync(long timestamp)
    {
        if (timestamp <= Stopwatch.GetTimestamp())
        {
            return Task.CompletedTask; // a late stream catches up at once
        }

        var wait = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_gate)
        {
            _due.Enqueue(wait, timestamp);
            if (_due.Count == 1)
            {
                Monitor.Pulse(_gate);
            }
        }

        return wait.Task;
    }

    private void Run()
    {
        while (true)
        {
            long next;
            lock (_gate)
            {
                if (_due.Count == 0)
                {
                    Monitor.Wait(_gate); // nothing due: sleep until a wait is added
                }

                var now = Stopwatch.GetTimestamp();
                while (_due.TryPeek(out var wait, out var at) && at <= now)
                {
                    _due.Dequeue();
                    _ready.Add(wait);
                }

                next = _due.TryPeek(out _, out var nextAt) ? nextAt : -1;
            }

            foreach (var wait in _ready)
            {
                wait.TrySetResult();
            }

            _ready.Clear();
            if (next >= 0)
            {
                var micros = (next - Stopwatch.GetTimestamp()) * 1_000_000 / Stopwatch.Frequency;
                if (micros > 0)
                {
                    _ = usleep((uint)Math.Min(micros, _maxSleepMicroseconds));
                }
            }
        }
    }

    // A high-resolution sleep: Thread.Sleep takes whole milliseconds.
    [LibraryImport("libc", SetLastError = false)]
    private static partial int usleep(uint microseconds);
}
