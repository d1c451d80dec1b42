using System.Text;
using Gateway.Providers;
using Gateway.Providers.OpenAI;

namespace Gateway.Tests.Providers.OpenAI;

public class EventSizeLimitTests
{
    [Theory]
    [InlineData("\n", 1)]
    [InlineData("\n", 4096)]
    [InlineData("\r\n", 1)]
    [InlineData("\r\n", 4093)]
    [InlineData("\r", 4096)]
    public async Task EventsTotallingFarMoreThanTheLimit_PassThroughWhole_WhereverTheReadsCutThem(string lineBreak, int readSize)
    {
        var chunk = $"data: {{\"choices\":[{{\"delta\":{{\"content\":\"{new string('x', 1000)}\"}}}}]}}{lineBreak}{lineBreak}";
        var count = (EventSizeLimit.MaxBytes / chunk.Length) + 50;
        var input = Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat(chunk, readSize == 1 ? count / 50 : count)));

        Assert.Equal(input.Length, await ReadAllAsync(input, readSize));
    }

    [Fact]
    public async Task AnEventLongerThanTheLimit_IsAProtocolFailure_BeforeItIsAllRead()
    {
        var input = Encoding.UTF8.GetBytes("data: {}\n\ndata: " + new string('a', EventSizeLimit.MaxBytes + 100));

        var failure = await Assert.ThrowsAsync<UpstreamException>(() => ReadAllAsync(input, 64 * 1024));

        Assert.Equal(UpstreamFailure.Protocol, failure.Failure);
        Assert.Equal("The upstream sent an event of more than 16 MiB without ending it.", failure.Message);
    }

    [Fact]
    public async Task ManyLinesOfOneEvent_CountTogether()
    {
        var line = "data: " + new string('a', 1000) + "\n";
        var input = Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat(line, (EventSizeLimit.MaxBytes / line.Length) + 10)));

        await Assert.ThrowsAsync<UpstreamException>(() => ReadAllAsync(input, 4096));
    }

    private static async Task<long> ReadAllAsync(byte[] input, int readSize)
    {
        using var stream = new EventSizeLimit(new MemoryStream(input));
        var buffer = new byte[readSize];
        long total = 0;
        int read;
        while ((read = await stream.ReadAsync(buffer)) > 0)
        {
            total += read;
        }

        return total;
    }
}
