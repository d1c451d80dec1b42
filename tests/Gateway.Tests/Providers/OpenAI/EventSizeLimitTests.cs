using System.Text;
using Gateway.Providers;
using Gateway.Providers.OpenAI;

namespace Gateway.Tests.Providers.OpenAI;

public class EventSizeLimitTests
{
    private const int SmallLimit = 2048;

    // How many bytes the reads had given before the one that failed.
    private long _readBefore;

    [Theory]
    [InlineData("\n", "\n")]
    [InlineData("\r\n", "\r\n")]
    [InlineData("\r", "\r")]
    [InlineData("\n", "\r")] // an LF line, then a CR blank line
    [InlineData("\r\n", "\r")]
    [InlineData("\n", "\r\n")]
    public async Task EventsTotallingFarMoreThanTheLimit_PassThroughWhole_WhereverTheReadsCutThem(string lineBreak, string blankLine)
    {
        // 1,500-byte events against a 2,048-byte limit: a blank line missed anywhere, in a read or across two, fails it.
        var input = Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat($"data: {new string('x', 1500)}{lineBreak}{blankLine}", 50)));

        foreach (var readSize in new[] { 1, 2, 3, 7, 1499, 1503, 4096 })
        {
            Assert.Equal(input.Length, (await ReadAllAsync(input, readSize, SmallLimit)).Total);
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(64 * 1024)]
    public async Task AnEventLongerThanTheLimit_IsAProtocolFailure_BeforeTheRestIsRead(int readSize)
    {
        var input = Encoding.UTF8.GetBytes("data: {}\n\ndata: " + new string('a', 100_000));

        var failure = await Assert.ThrowsAsync<UpstreamException>(() => ReadAllAsync(input, readSize, SmallLimit));

        Assert.Equal(UpstreamFailure.Protocol, failure.Failure);
        Assert.StartsWith("The upstream sent more than 0 MiB without ending an event", failure.Message, StringComparison.Ordinal);
        Assert.InRange(_readBefore, 0, SmallLimit + readSize + 20); // stopped at the limit, not at the end of the 100 KB
    }

    [Fact]
    public async Task ManyLinesOfOneEvent_CountTogether()
    {
        var input = Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat("data: " + new string('a', 100) + "\n", 40)));

        await Assert.ThrowsAsync<UpstreamException>(() => ReadAllAsync(input, 64, SmallLimit));
    }

    [Fact]
    public async Task AtTheRealLimit_TheMessageNamesIt()
    {
        var input = Encoding.UTF8.GetBytes("data: " + new string('a', EventSizeLimit.MaxBytes + 10));

        var failure = await Assert.ThrowsAsync<UpstreamException>(() => ReadAllAsync(input, 1024 * 1024, EventSizeLimit.MaxBytes));

        Assert.Equal("The upstream sent more than 16 MiB without ending an event (no blank line).", failure.Message);
    }

    private async Task<(long Total, int Reads)> ReadAllAsync(byte[] input, int readSize, int limit)
    {
        using var stream = new EventSizeLimit(new MemoryStream(input), limit);
        var buffer = new byte[readSize];
        long total = 0;
        var reads = 0;
        int read;
        _readBefore = 0;
        while ((read = await stream.ReadAsync(buffer)) > 0)
        {
            total += read;
            _readBefore = total;
            reads++;
        }

        return (total, reads);
    }
}
