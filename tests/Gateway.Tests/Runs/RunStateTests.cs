using Gateway.Runs;

namespace Gateway.Tests.Runs;

/// <summary>
/// How a run ends when a cancel meets its end. A cancel answered 202 ends the run cancelled, as the caller was told;
/// one that comes once the run's work is over, or its end decided, is refused (409), where before it was answered
/// 202 and the run still ended completed.
/// </summary>
public sealed class RunStateTests
{
    private static readonly DateTimeOffset Now = DateTimeOffset.UnixEpoch;

    private static RunState TwoNodes() => new("run-1", "flow", Now, ["a", "b"], ["b"]);

    private static void Complete(RunState state, string node) =>
        state.Update(node, n => n with { Status = NodeStatus.Completed, Output = "x" });

    [Fact]
    public void ACancelAccepted_EndsTheRunCancelled_EvenIfEveryNodeCompletesBeforeItsEnd()
    {
        var state = TwoNodes();
        Complete(state, "a");

        Assert.True(state.TryAcceptCancel(RunState.CancelledByCaller));
        Complete(state, "b");

        Assert.Equal(RunStatus.Cancelled, state.Finish(Now, cancelled: false).Status);
    }

    [Fact]
    public void OnceNoNodeIsPendingOrRunning_ACancelIsRefused_AndTheRunEndsAsItWould()
    {
        var completed = TwoNodes();
        Complete(completed, "a");
        Complete(completed, "b");
        var failed = TwoNodes();
        failed.Fail("a", new NodeError("upstream_error", "down"), n => n);
        failed.Update("b", n => n with { Status = NodeStatus.Skipped });

        Assert.False(completed.TryAcceptCancel(RunState.CancelledByCaller));
        Assert.False(failed.TryAcceptCancel(RunState.CancelledByCaller));
        Assert.Equal(RunStatus.Completed, completed.Finish(Now, cancelled: false).Status);
        Assert.Equal(RunStatus.Failed, failed.Finish(Now, cancelled: false).Status);
    }

    [Fact]
    public void OnceTheEndIsDecided_ACancelIsRefused()
    {
        var state = TwoNodes();
        state.Update("a", n => n with { Status = NodeStatus.Running });

        state.Finish(Now, cancelled: false);

        Assert.False(state.TryAcceptCancel(RunState.CancelledByCaller));
    }

    [Fact]
    public void TheGatewayStoppingARunWhoseNodesAllCompleted_LeavesItCompleted()
    {
        var state = TwoNodes();
        state.Interrupt(new RunError("interrupted", "stopping", null));
        Assert.True(state.TryAcceptCancel(RunState.CancelledByCaller));
        Complete(state, "a");
        Complete(state, "b");

        Assert.Equal(RunStatus.Completed, state.Finish(Now, cancelled: true).Status);
    }
}
