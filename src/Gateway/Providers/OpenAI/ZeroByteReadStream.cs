using System.Runtime.CompilerServices;

namespace Gateway.Providers.OpenAI;

/// <summary>
/// A read-only view of an upstream response body that waits for each read's data with a zero-byte read first.
/// <see cref="HttpClient"/>'s response streams complete a zero-byte read when data arrives, with no buffer handed
/// down and none of the connection's fill machinery; the real read that follows then completes at once. Without it,
/// every read that has to wait for the next token (most of them: tokens are milliseconds apart) also allocates the
/// connection's <c>FillAsync</c> state machine.
/// </summary>
internal sealed class ZeroByteReadStream(Stream inner) : Stream
{
    // Once per token, usually completing asynchronously: the pooling builder reuses its state machine box.
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (buffer.Length > 0)
        {
            await inner.ReadAsync(Memory<byte>.Empty, cancellationToken).ConfigureAwait(false);
        }

        return await inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    // Only ever read asynchronously here; a blocking read would tie up a thread on I/O.
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            inner.Dispose();
        }

        base.Dispose(disposing);
    }

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
