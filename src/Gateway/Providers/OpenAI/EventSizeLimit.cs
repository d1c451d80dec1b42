namespace Gateway.Providers.OpenAI;

/// <summary>
/// Bounds one server-sent event of an upstream's stream. The event parser keeps an event's lines until the blank line
/// that ends it, so an upstream that never sent one (a broken proxy, a stuck server) grew a buffer for as long as it
/// sent: a 500 MB line cost the gateway a gigabyte. A chunk is a few hundred bytes; past <see cref="MaxBytes"/> the
/// stream is a protocol failure. Counted as the bytes are read, before the parser copies them.
/// </summary>
internal sealed class EventSizeLimit(Stream inner) : AsyncReadStream(inner)
{
    /// <summary>As much as a whole answer (<see cref="UnstreamedAnswer"/>): some servers send it all in one chunk.</summary>
    public const int MaxBytes = 16 * 1024 * 1024;

    private long _sinceEventEnd;
    private bool _endedOnLineBreak;

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

        var end = LastEventEnd(read, _endedOnLineBreak);
        _sinceEventEnd = end < 0 ? _sinceEventEnd + read.Length : read.Length - end;
        _endedOnLineBreak = read[^1] is (byte)'\n' or (byte)'\r';
        if (_sinceEventEnd > MaxBytes)
        {
            throw new UpstreamException(
                UpstreamFailure.Protocol, $"The upstream sent an event of more than {MaxBytes / (1024 * 1024)} MiB without ending it.");
        }
    }

    /// <summary>
    /// Where the last blank line in <paramref name="read"/> ends (an event ends there), or -1. One that straddles two
    /// reads is taken as a line break at the end of the last read and one at the start of this; a CR LF split so is
    /// taken for one too, which only ever lets the count start over a little early.
    /// </summary>
    private static int LastEventEnd(ReadOnlySpan<byte> read, bool previousEndedOnLineBreak)
    {
        var end = Math.Max(After(read.LastIndexOf("\n\n"u8), 2), Math.Max(After(read.LastIndexOf("\r\r"u8), 2), After(read.LastIndexOf("\n\r\n"u8), 3)));
        return end < 0 && previousEndedOnLineBreak && read[0] is (byte)'\n' or (byte)'\r' ? 1 : end;
    }

    private static int After(int index, int length) => index < 0 ? -1 : index + length;
}
