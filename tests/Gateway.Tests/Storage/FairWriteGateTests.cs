using Gateway.Storage;

namespace Gateway.Tests.Storage;

public sealed class FairWriteGateTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    private readonly FairWriteGate _gate = new();

    [Fact]
    public async Task AFreeGate_IsTakenAtOnce_AndFreedByItsRelease()
    {
        Assert.True(await _gate.WaitAsync("a", Patience, CancellationToken.None));
        _gate.Release();

        var again = _gate.WaitAsync("b", Patience, CancellationToken.None);

        Assert.True(again.IsCompletedSuccessfully);
        Assert.True(await again);
    }

    [Fact]
    public async Task AnotherLanesWaiter_WaitsForOneOfABusyLanesWaiters_NotForAllQueuedBeforeIt()
    {
        await _gate.WaitAsync("busy", Patience, CancellationToken.None);
        var waiters = new[] { ("busy", 1), ("busy", 2), ("busy", 3), ("other", 1) }
            .Select(waiter => (Name: $"{waiter.Item1}{waiter.Item2}", Turn: _gate.WaitAsync(waiter.Item1, Patience, CancellationToken.None)))
            .ToList();

        var order = await ServeAllAsync(waiters);

        Assert.Equal(["busy1", "other1", "busy2", "busy3"], order);
    }

    [Fact]
    public async Task Lanes_TakeTurnsInTheOrderTheyFirstWaited_AndALaneServedGoesToTheBack()
    {
        await _gate.WaitAsync("a", Patience, CancellationToken.None);
        var waiters = new[] { ("b", 1), ("a", 1), ("c", 1), ("b", 2), ("a", 2), ("b", 3) }
            .Select(waiter => (Name: $"{waiter.Item1}{waiter.Item2}", Turn: _gate.WaitAsync(waiter.Item1, Patience, CancellationToken.None)))
            .ToList();

        var order = await ServeAllAsync(waiters);

        Assert.Equal(["b1", "a1", "c1", "b2", "a2", "b3"], order);
    }

    [Fact]
    public async Task AWaiterWhoseTimeoutPassed_GetsFalse_AndIsPassedOverAtItsTurn()
    {
        await _gate.WaitAsync("a", Patience, CancellationToken.None);
        var impatient = _gate.WaitAsync("a", TimeSpan.FromMilliseconds(50), CancellationToken.None);
        var patient = _gate.WaitAsync("b", Patience, CancellationToken.None);

        Assert.False(await impatient);
        _gate.Release();

        Assert.True(await patient.WaitAsync(Patience));
        Assert.Equal(0, _gate.Waiting);
    }

    [Fact]
    public async Task AWaiterCancelled_Throws_AndIsPassedOverAtItsTurn()
    {
        await _gate.WaitAsync("a", Patience, CancellationToken.None);
        using var cancellation = new CancellationTokenSource();
        var cancelled = _gate.WaitAsync("a", Patience, cancellation.Token);
        var patient = _gate.WaitAsync("a", Patience, CancellationToken.None);

        await cancellation.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled);
        _gate.Release();
        Assert.True(await patient.WaitAsync(Patience));
    }

    /// <summary>A lane whose first waiter gave up keeps its turn for the one behind it (found by review).</summary>
    [Fact]
    public async Task ALaneWhoseFirstWaiterGaveUp_KeepsItsTurn()
    {
        await _gate.WaitAsync("a", Patience, CancellationToken.None);
        using var cancellation = new CancellationTokenSource();
        var gaveUp = _gate.WaitAsync("a", Patience, cancellation.Token);
        var waiters = new[] { ("a", 2), ("b", 1) }
            .Select(waiter => (Name: $"{waiter.Item1}{waiter.Item2}", Turn: _gate.WaitAsync(waiter.Item1, Patience, CancellationToken.None)))
            .ToList();
        await cancellation.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => gaveUp);

        var order = await ServeAllAsync(waiters);

        Assert.Equal(["a2", "b1"], order);
    }

    [Fact]
    public async Task TheLastWaiterReleasing_FreesTheGate()
    {
        await _gate.WaitAsync("a", Patience, CancellationToken.None);
        var next = _gate.WaitAsync("b", Patience, CancellationToken.None);
        _gate.Release();
        await next.WaitAsync(Patience);

        _gate.Release();

        Assert.True(_gate.WaitAsync("c", Patience, CancellationToken.None).IsCompletedSuccessfully);
    }

    /// <summary>Releases the gate once per waiter and returns their names in the order they got it.</summary>
    private async Task<List<string>> ServeAllAsync(List<(string Name, Task<bool> Turn)> waiters)
    {
        var order = new List<string>();
        foreach (var _ in waiters)
        {
            _gate.Release();
            var served = await Task.WhenAny(waiters.Where(waiter => !order.Contains(waiter.Name)).Select(waiter => waiter.Turn)).WaitAsync(Patience);
            Assert.True(await served);
            order.Add(waiters.Single(waiter => waiter.Turn == served).Name);
        }

        return order;
    }
}
