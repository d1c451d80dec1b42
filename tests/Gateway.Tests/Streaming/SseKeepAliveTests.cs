using System.Text;
using Gateway.Streaming;
using Gateway.Tests.Infrastructure;
using Microsoft.AspNetCore.Http;

namespace Gateway.Tests.Streaming;

public sealed class SseKeepAliveTests
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(5);

    [Fact]
    public async Task KeepAlive_IsWrittenOnlyAfterTheFirstWrite_AndOnlyWhenIdleForAnInterval()
    {
        var (context, body) = NewResponse();
        var clock = new FakeTimeProvider();
        using var sse = new SseWriter(context.Response);
        await using var keepAlive = new SseKeepAlive(sse, Interval, clock, CancellationToken.None);

        clock.Advance(Interval * 3);
        Assert.Equal("", Text(body));

        await keepAlive.EnterAsync(CancellationToken.None);
        await sse.WriteDataAsync("1"u8.ToArray(), CancellationToken.None);
        keepAlive.Exit();
        await ExpectOneKeepAliveAFullIntervalAfterTheWriteAsync(clock, body);
    }

    [Fact]
    public async Task Start_AfterAWriteMadeWithoutIt_SendsTheFirstKeepAliveAFullIntervalLater()
    {
        var (context, body) = NewResponse();
        var clock = new FakeTimeProvider();
        using var sse = new SseWriter(context.Response);
        await sse.WriteDataAsync("1"u8.ToArray(), CancellationToken.None);
        await using var keepAlive = new SseKeepAlive(sse, Interval, clock, CancellationToken.None);

        keepAlive.Start();
        await ExpectOneKeepAliveAFullIntervalAfterTheWriteAsync(clock, body);
    }

    [Fact]
    public async Task AWriteThatFailedBeforeExit_DoesNotKeepTheStreamFromEnding()
    {
        var (context, _) = NewResponse();
        using var sse = new SseWriter(context.Response);
        var keepAlive = new SseKeepAlive(sse, Interval, new FakeTimeProvider(), CancellationToken.None);

        await keepAlive.EnterAsync(CancellationToken.None);

        await keepAlive.DisposeAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10));
    }

#if DEBUG
    // A Debug build compiles async methods to classes, so each EnterAsync boxes its state machine; the promise is
    // about the shipped build, which scripts/test.sh (and CI) test in Release, where nothing is allocated at all.
    private const long AsyncStateMachineBytes = 56;
#else
    private const long AsyncStateMachineBytes = 0;
#endif

    /// <summary>Entered and left once per token on /v1: it must add no allocation to the token path.</summary>
    [Fact]
    public async Task EnterAndExit_AllocateNothing()
    {
        var (context, _) = NewResponse();
        using var aborted = new CancellationTokenSource();
        using var sse = new SseWriter(context.Response);
        await using var keepAlive = new SseKeepAlive(sse, Interval, TimeProvider.System, aborted.Token);
        await keepAlive.EnterAsync(aborted.Token);
        keepAlive.Exit();

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 1_000; i++)
        {
            await keepAlive.EnterAsync(aborted.Token);
            keepAlive.Exit();
        }

        Assert.Equal(0, (GC.GetAllocatedBytesForCurrentThread() - before) / 1_000 - AsyncStateMachineBytes);
    }

    private static (DefaultHttpContext Context, MemoryStream Body) NewResponse()
    {
        var body = new MemoryStream();
        var context = new DefaultHttpContext();
        context.Response.Body = body;
        return (context, body);
    }

    /// <summary>After <c>data: 1</c>: nothing more until a whole interval has passed, then one keep-alive.</summary>
    private static async Task ExpectOneKeepAliveAFullIntervalAfterTheWriteAsync(FakeTimeProvider clock, MemoryStream body)
    {
        clock.Advance(Interval - TimeSpan.FromSeconds(1));
        Assert.Equal("data: 1\n\n", Text(body));

        clock.Advance(TimeSpan.FromSeconds(1));
        await WaitUntilAsync(() => Text(body).EndsWith(": keep-alive\n\n", StringComparison.Ordinal));
        Assert.Equal("data: 1\n\n: keep-alive\n\n", Text(body));
    }

    private static string Text(MemoryStream body) => Encoding.UTF8.GetString(body.ToArray());

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (!condition())
        {
            await Task.Delay(10, timeout.Token);
        }
    }
}
