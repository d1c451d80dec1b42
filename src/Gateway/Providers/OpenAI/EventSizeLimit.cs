using System.Runtime.CompilerServices;

namespace Gateway.Providers.OpenAI;

/// <summary>
/// Bounds one server-sent event of an upstream's stream. The event parser keeps an event's lines until the blank line
/// that ends it, so an upstream that never sent one (a broken proxy, a stuck server) grew a buffer for as long as it
/// sent: a 500 MB line cost the gateway a gigabyte. A chunk is a few hundred bytes; past the limit the stream is a
/// protocol failure. Counted as the bytes are read, before the parser copies them.
/// </summary>
internal sealed class EventSizeLimit(Stream inner, int maxBytes = EventSizeLimit.MaxBytes) : AsyncReadStream(inner)
{
    /// <summary>As much as a whole answer in one document (<see cref="UnstreamedAnswer"/>): some servers send it all in one chunk.</summary>
    public const int MaxBytes = 16 * 1024 * 1024;

    private long _sinceEventEnd;

    // Whether the last read ended on a line break, and on a blank line's: a blank line can straddle two reads.
    private bool _endedOnLineBreak;
    private bool _endedOnCarriageReturn;

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var read = Inner.ReadAsync(buffer, cancellationToken);
        if (buffer.IsEmpty)
        {
            return read; // the zero-byte wait for data (ZeroByteReadStream): nothing to count
        }

        if (read.IsCompletedSuccessfully)
        {
            var count = read.Result;
            Count(buffer.Span[..count]);
            return new ValueTask<int>(count);
        }

        return CountWhenReadAsync(read, buffer);
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))] // a read that had to wait, without a box each time
    private async ValueTask<int> CountWhenReadAsync(ValueTask<int> read, Memory<byte> buffer)
    {
        var count = await read.ConfigureAwait(false);
        Count(buffer.Span[..count]);
        return count;
    }

    private void Count(ReadOnlySpan<byte> read)
    {
        if (read.IsEmpty)
        {
            return;
        }

        var end = LastEventEnd(read);
        _sinceEventEnd = end < 0 ? _sinceEventEnd + read.Length : read.Length - end;
        _endedOnLineBreak = read[^1] is (byte)'\n' or (byte)'\r';
        _endedOnCarriageReturn = read[^1] == (byte)'\r';
        if (_sinceEventEnd > maxBytes)
        {
            throw new UpstreamException(
                UpstreamFailure.Protocol, $"The upstream sent more than {maxBytes / (1024 * 1024)} MiB without ending an event (no blank line).");
        }
    }

    /// <summary>
    /// Where the last blank line in <paramref name="read"/> ends (an event ends there), or -1: two line breaks in a row,
    /// a CR LF being one. A read of whole events, the usual, ends on one and is seen at once.
    /// </summary>
    private int LastEventEnd(ReadOnlySpan<byte> read)
    {
        if (read.EndsWith("\n\n"u8) || read.EndsWith("\r\r"u8) || read.EndsWith("\r\n\r\n"u8) || read.EndsWith("\n\r\n"u8))
        {
            return read.Length;
        }

        // Line breaks from the last back: each is a blank line's end when a break comes right before it.
        var end = read.Length;
        while (read[..end].LastIndexOfAny((byte)'\r', (byte)'\n') is var at and >= 0)
        {
            var start = at > 0 && read[at] == (byte)'\n' && read[at - 1] == (byte)'\r' ? at - 1 : at;
            if (start > 0 ? read[start - 1] is (byte)'\n' or (byte)'\r' : StraddlesTheLastRead(read[start]))
            {
                return at + 1;
            }

            end = start;
        }

        return -1;
    }

    /// <summary>Whether a break at the start of this read follows one at the end of the last: not a CR LF cut in two.</summary>
    private bool StraddlesTheLastRead(byte first) => _endedOnLineBreak && !(_endedOnCarriageReturn && first == (byte)'\n');
}
