using Gateway.Providers;
using Gateway.Providers.Simulated;
using Gateway.Tests.Infrastructure;
using Microsoft.Extensions.AI;

namespace Gateway.Tests.Providers.Simulated;

public sealed class SimulatedChatClientTests
{
    private static readonly TimeSpan Delay = TimeSpan.FromSeconds(1);

    private static List<ChatMessage> Messages(string user) =>
        [new(ChatRole.System, "be brief"), new(ChatRole.User, "first question"), new(ChatRole.User, user)];

    [Fact]
    public async Task Echo_WaitsTokenDelayBeforeEachToken_OnTheInjectedClock()
    {
        var clock = new FakeTimeProvider();
        using var client = new SimulatedChatClient("sim", Delay, clock);
        await using var updates = client.GetStreamingResponseAsync(Messages("a b c"), new ChatOptions { ModelId = "echo" }).GetAsyncEnumerator();

        var first = updates.MoveNextAsync().AsTask();
        await WaitForTimerAsync(clock);
        Assert.False(first.IsCompleted);

        clock.Advance(Delay);
        Assert.True(await first);
        Assert.Equal("a", updates.Current.Text);

        var second = updates.MoveNextAsync().AsTask();
        await WaitForTimerAsync(clock);
        clock.Advance(Delay - TimeSpan.FromMilliseconds(1));
        Assert.False(second.IsCompleted);
        clock.Advance(TimeSpan.FromMilliseconds(1));
        Assert.True(await second);
        Assert.Equal(" b", updates.Current.Text);
    }

    [Fact]
    public async Task Echo_CountsWordsOfAllMessagesAsInputAndTokensSentAsOutput()
    {
        using var client = new SimulatedChatClient("sim", TimeSpan.Zero, TimeProvider.System);

        var updates = await ToListAsync(client.GetStreamingResponseAsync(Messages(" one  two\tthree \n"), new ChatOptions { ModelId = "echo" }));

        Assert.Equal([" one", "  two", "\tthree \n"], updates.Where(u => u.Text.Length > 0).Select(u => u.Text));
        var last = updates[^1];
        Assert.Equal(ChatFinishReason.Stop, last.FinishReason);
        var usage = Assert.IsType<UsageContent>(Assert.Single(last.Contents)).Details;
        Assert.Equal(2 + 2 + 3, usage.InputTokenCount);
        Assert.Equal(3, usage.OutputTokenCount);
        Assert.Equal(10, usage.TotalTokenCount);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("zz")]
    public async Task Echo_OfWhitespaceAlone_SendsItAndCountsNoWords_WithOrWithoutStopSequences(string? stop)
    {
        using var client = new SimulatedChatClient("sim", TimeSpan.Zero, TimeProvider.System);
        var options = new ChatOptions { ModelId = "echo", StopSequences = stop is null ? null : [stop] };

        var response = await client.GetResponseAsync(Messages("   "), options);

        Assert.Equal("   ", response.Text);
        Assert.Equal(0, response.Usage!.OutputTokenCount);
    }

    [Fact]
    public async Task Echo_MaxTokensBelowTheWordCount_TruncatesWithLength()
    {
        using var client = new SimulatedChatClient("sim", TimeSpan.Zero, TimeProvider.System);

        var response = await client.GetResponseAsync(Messages("a b c d"), new ChatOptions { ModelId = "echo", MaxOutputTokens = 2 });

        Assert.Equal("a b", response.Text);
        Assert.Equal(ChatFinishReason.Length, response.FinishReason);
        Assert.Equal(2, response.Usage!.OutputTokenCount);
    }

    [Fact]
    public async Task Lorem_DefaultsToFiftyWords()
    {
        using var client = new SimulatedChatClient("sim", TimeSpan.Zero, TimeProvider.System);

        var response = await client.GetResponseAsync(Messages("x"), new ChatOptions { ModelId = "lorem" });

        Assert.Equal(50, WordTokens.Count(response.Text));
        Assert.StartsWith("Lorem ipsum dolor sit amet,", response.Text, StringComparison.Ordinal);
        Assert.Equal(ChatFinishReason.Stop, response.FinishReason);
    }

    [Fact]
    public async Task Cancellation_StopsAWaitingStreamAtOnce()
    {
        var clock = new FakeTimeProvider();
        using var client = new SimulatedChatClient("sim", TimeSpan.FromHours(1), clock);
        using var cancellation = new CancellationTokenSource();
        await using var updates = client.GetStreamingResponseAsync(Messages("a b"), new ChatOptions { ModelId = "echo" }, cancellation.Token).GetAsyncEnumerator();

        var first = updates.MoveNextAsync().AsTask();
        await WaitForTimerAsync(clock);
        await cancellation.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => first);
    }

    [Fact]
    public async Task UnknownModel_IsAnUpstream404()
    {
        using var client = new SimulatedChatClient("sim", TimeSpan.Zero, TimeProvider.System);

        var exception = await Assert.ThrowsAsync<UpstreamException>(() => client.GetResponseAsync(Messages("x"), new ChatOptions { ModelId = "gpt-9" }));

        Assert.Equal(System.Net.HttpStatusCode.NotFound, exception.Status);
    }

    private static async Task WaitForTimerAsync(FakeTimeProvider clock)
    {
        for (var i = 0; i < 1000 && clock.PendingTimers == 0; i++)
        {
            await Task.Delay(1);
        }

        Assert.Equal(1, clock.PendingTimers);
    }

    private static async Task<List<T>> ToListAsync<T>(IAsyncEnumerable<T> source)
    {
        var list = new List<T>();
        await foreach (var item in source)
        {
            list.Add(item);
        }

        return list;
    }
}
