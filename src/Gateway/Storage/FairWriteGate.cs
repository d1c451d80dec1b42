namespace Gateway.Storage;

/// <summary>
/// One writer at a time, handed out lane by lane in turn, and first come first served within a lane. A lane is an API
/// key's runs (<see cref="StoreWriteLane"/>): a key whose runs each write megabytes queues behind its own writes, and
/// another key's write waits for at most one of them per lane ahead of it, not for every write queued before it. With
/// a first-come gate, one key's eight runs of a million rendered characters each held another key's small run at 1.6–1.8
/// s (p50; 0.05 s alone, 0.5 s with turns).
/// </summary>
/// <remarks>
/// A waiter that gave up (its timeout, its token) stays in its lane's queue and is passed over when its turn comes,
/// so that giving up never races the hand-over: whichever of the two settles the waiter first wins.
/// </remarks>
internal sealed class FairWriteGate
{
    private readonly Lock _sync = new();
    private readonly Dictionary<string, Queue<TaskCompletionSource<bool>>> _waiting = new(StringComparer.Ordinal);

    /// <summary>The lanes with someone waiting, in the order of their turns; a lane served goes to the back.</summary>
    private readonly Queue<string> _turns = new();

    private bool _held;

    /// <summary>How many waiters are queued, those that gave up and were not passed over yet included.</summary>
    public int Waiting
    {
        get
        {
            lock (_sync)
            {
                return _waiting.Values.Sum(queue => queue.Count);
            }
        }
    }

    /// <summary>Takes the gate for <paramref name="lane"/>: true once it holds it, false if <paramref name="timeout"/> passed first.</summary>
    public Task<bool> WaitAsync(string lane, TimeSpan timeout, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        TaskCompletionSource<bool> waiter;
        lock (_sync)
        {
            if (!_held)
            {
                _held = true;
                return Task.FromResult(true);
            }

            waiter = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
            if (!_waiting.TryGetValue(lane, out var queue))
            {
                _waiting[lane] = queue = new Queue<TaskCompletionSource<bool>>();
                _turns.Enqueue(lane);
            }

            queue.Enqueue(waiter);
        }

        return WaitForTurnAsync(waiter, timeout, cancellationToken);
    }

    /// <summary>Hands the gate to the next lane's first waiter still waiting, or frees it.</summary>
    public void Release()
    {
        lock (_sync)
        {
            while (_turns.TryDequeue(out var lane))
            {
                // A waiter that gave up is passed over within its lane: the lane keeps its turn for the one behind it.
                var queue = _waiting[lane];
                var served = false;
                while (!served && queue.TryDequeue(out var next))
                {
                    served = next.TrySetResult(true);
                }

                if (queue.Count > 0)
                {
                    _turns.Enqueue(lane);
                }
                else
                {
                    _waiting.Remove(lane);
                }

                if (served)
                {
                    return;
                }
            }

            _held = false;
        }
    }

    private static async Task<bool> WaitForTurnAsync(TaskCompletionSource<bool> waiter, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var timer = new CancellationTokenSource(timeout);
        await using var timedOut = timer.Token.UnsafeRegister(static state => ((TaskCompletionSource<bool>)state!).TrySetResult(false), waiter);
        await using var cancelled = cancellationToken.UnsafeRegister(
            static (state, token) => ((TaskCompletionSource<bool>)state!).TrySetCanceled(token), waiter);
        return await waiter.Task;
    }
}
