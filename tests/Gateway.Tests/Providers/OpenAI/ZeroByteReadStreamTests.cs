using System.Text;
using Gateway.Providers.OpenAI;

namespace Gateway.Tests.Providers.OpenAI;

public class ZeroByteReadStreamTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(4096)]
    public async Task PassesTheBytesThroughUnchanged_WhateverTheReadSizes(int readSize)
    {
        var input = Encoding.UTF8.GetBytes("data: {\"choices\":[{\"delta\":{\"content\":\"hé\"}}]}\n\ndata: [DONE]\n\n");
        var inner = new RecordingStream(input);
        using var stream = new ZeroByteReadStream(inner);

        var output = new MemoryStream();
        var buffer = new byte[readSize];
        int read;
        while ((read = await stream.ReadAsync(buffer)) > 0)
        {
            output.Write(buffer, 0, read);
        }

        Assert.Equal(input, output.ToArray());
        // Each read waited with a zero-byte read first, then read.
        Assert.All(inner.ReadLengths.Where((_, i) => i % 2 == 0), length => Assert.Equal(0, length));
        Assert.All(inner.ReadLengths.Where((_, i) => i % 2 == 1), length => Assert.Equal(readSize, length));
    }

    [Fact]
    public async Task DisposingIt_DisposesTheBody()
    {
        var inner = new RecordingStream([]);
        await using (new ZeroByteReadStream(inner))
        {
        }

        Assert.True(inner.Disposed);
    }

    private sealed class RecordingStream(byte[] data) : MemoryStream(data)
    {
        public List<int> ReadLengths { get; } = [];

        public bool Disposed { get; private set; }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            ReadLengths.Add(buffer.Length);
            return base.ReadAsync(buffer, cancellationToken);
        }

        protected override void Dispose(bool disposing)
        {
            Disposed = true;
            base.Dispose(disposing);
        }
    }
}
