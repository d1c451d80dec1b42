using Gateway.Chat;
using Gateway.Tests.Infrastructure;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Gateway.Tests.Chat;

/// <summary>The cut of a <c>/v1</c> client that stopped reading, against the stream's own end.</summary>
public sealed class StalledClientCutTests
{
    /// <summary>
    /// The stream's end waits for a cut already under way: a cut that found the stream open and aborted after its end
    /// would abort the next request on the connection, which may reuse the HttpContext (until 2026-12-07 the end did
    /// not wait).
    /// </summary>
    [Fact]
    public async Task TheStreamsEnd_WaitsForACutUnderWay()
    {
        var clock = new FakeTimeProvider();
        using var abort = new HeldAbort();
        var http = new DefaultHttpContext();
        http.Features.Set<IHttpRequestLifetimeFeature>(abort);
        using var deadline = new CancellationTokenSource();
        var cut = new StalledClientCut(http, clock, deadline.Token, CancellationToken.None);
        await deadline.CancelAsync();

        var cutting = Task.Run(() => clock.Advance(TimeSpan.FromSeconds(1)));
        Assert.True(abort.Entered.Wait(TimeSpan.FromSeconds(10)), "the grace should have run out and the cut begun");
        var ending = Task.Run(cut.Dispose);
        var endedDuringTheCut = await Task.WhenAny(ending, Task.Delay(TimeSpan.FromMilliseconds(300))) == ending;
        abort.Release.Set();
        await Task.WhenAll(cutting, ending).WaitAsync(TimeSpan.FromSeconds(10));

        Assert.False(endedDuringTheCut, "the stream's end returned while the cut was still aborting its request");
        Assert.True(cut.CutOff);
    }

    /// <summary>An abort that holds until told, as one under way on another thread does.</summary>
    private sealed class HeldAbort : IHttpRequestLifetimeFeature, IDisposable
    {
        public ManualResetEventSlim Entered { get; } = new();

        public ManualResetEventSlim Release { get; } = new();

        public CancellationToken RequestAborted { get; set; }

        public void Abort()
        {
            Entered.Set();
            Release.Wait(TimeSpan.FromSeconds(10));
        }

        public void Dispose()
        {
            Entered.Dispose();
            Release.Dispose();
        }
    }
}
