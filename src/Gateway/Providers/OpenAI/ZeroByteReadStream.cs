using System.Runtime.CompilerServices;

namespace Gateway.Providers.OpenAI;

/// <summary>
/// A read-only view of an upstream response body that waits for each read's data with a zero-byte read first.
/// <see cref="HttpClient"/>'s response streams complete a zero-byte read when data arrives, with no buffer handed
/// down and none of the connection's fill machinery; the real read that follows then completes at once. Without it,
/// every read that has to wait for the next token (most of them: tokens are milliseconds apart) also allocates the
/// connection's <c>FillAsync</c> state machine.
/// </summary>
internal sealed class ZeroByteReadStream(Stream inner) : AsyncReadStream(inner)
{
    // Once per token, usually completing asynchronously: the pooling builder reuses its state machine box.
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (buffer.Length > 0)
        {
            await Inner.ReadAsync(Memory<byte>.Empty, cancellationToken).ConfigureAwait(false);
        }

        return await Inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
    }
}
