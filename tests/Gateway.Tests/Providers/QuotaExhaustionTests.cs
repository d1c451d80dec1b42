using System.Net;
using Gateway.Providers;

namespace Gateway.Tests.Providers;

/// <summary>How a 429's body is read to tell a spent quota from a rate limit.</summary>
public sealed class QuotaExhaustionTests
{
    /// <summary>
    /// The body's read ends just as its 2 s wait runs out: the wait's callback, already running as the read's deadline
    /// is disposed, throws nothing. Until 2026-12-07 a timer cancelled the deadline with <c>Cancel()</c>, which throws
    /// <see cref="ObjectDisposedException"/> then, on a thread-pool thread: the process ended.
    /// </summary>
    [Fact]
    public async Task TheBodysWaitRunningOutAsTheReadEnds_ThrowsNothing()
    {
        var clock = new LateTimers();
        using var response = new HttpResponseMessage(HttpStatusCode.TooManyRequests)
        {
            Content = new StringContent("""{"error":{"message":"Out of credit.","type":"insufficient_quota","code":"insufficient_quota"}}"""),
        };

        Assert.True(await QuotaExhaustion.IsReportedByAsync(response, clock, CancellationToken.None));

        var wait = Assert.Single(clock.Callbacks);
        Assert.Null(Record.Exception(wait));
    }

    /// <summary>A clock whose timers never fire by themselves: the test runs each callback when it likes, as one running late.</summary>
    private sealed class LateTimers : TimeProvider
    {
        public List<Action> Callbacks { get; } = [];

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
        {
            Callbacks.Add(() => callback(state));
            return new Inert();
        }

        private sealed class Inert : ITimer
        {
            public bool Change(TimeSpan dueTime, TimeSpan period) => true;

            public void Dispose()
            {
            }

            public ValueTask DisposeAsync() => ValueTask.CompletedTask;
        }
    }
}
