using System.Runtime.CompilerServices;

namespace Gateway.Providers.OpenAI;

/// <summary>
/// Lets the event parser end a line on a carriage return as soon as it arrives. A line of server-sent events may end
/// in CR, LF or CR LF, and the parser, seeing a CR at the end of what it has read, waits for the next byte to know
/// whether an LF comes with it: from a server that ends its lines with CR alone, each event went on only when the next
/// one began (the first token as late as the second), and the last one before a connection that was cut never did
/// (a whole answer, finish and all, failed as cut off). A read that ends in CRs ends in LFs instead, each of them a
/// line's end as the CR was; an LF that then starts the next read completed the last CR's CR LF, and is left out.
/// </summary>
internal sealed class CarriageReturnLineEnds(Stream inner) : AsyncReadStream(inner)
{
    /// <summary>What <see cref="LineEnds"/> says of a read that held nothing but the LF it left out.</summary>
    private const int AnotherRead = -1;

    private bool _endedOnCarriageReturn;

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (buffer.IsEmpty)
        {
            return Inner.ReadAsync(buffer, cancellationToken); // the zero-byte wait for data (ZeroByteReadStream)
        }

        var read = Inner.ReadAsync(buffer, cancellationToken);
        if (!read.IsCompletedSuccessfully)
        {
            return LineEndsWhenReadAsync(read, buffer, cancellationToken);
        }

        var count = LineEnds(buffer.Span, read.Result);
        return count == AnotherRead ? LineEndsWhenReadAsync(Inner.ReadAsync(buffer, cancellationToken), buffer, cancellationToken) : new ValueTask<int>(count);
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))] // a read that had to wait, without a box each time
    private async ValueTask<int> LineEndsWhenReadAsync(ValueTask<int> read, Memory<byte> buffer, CancellationToken cancellationToken)
    {
        var count = await read.ConfigureAwait(false);
        while ((count = LineEnds(buffer.Span, count)) == AnotherRead)
        {
            count = await Inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
        }

        return count;
    }

    /// <summary>The read's bytes as the parser is to see them, and how many there are now.</summary>
    private int LineEnds(Span<byte> span, int read)
    {
        if (read == 0)
        {
            return 0;
        }

        if (_endedOnCarriageReturn && span[0] == (byte)'\n')
        {
            span[1..read].CopyTo(span);
            read--;
        }

        _endedOnCarriageReturn = false;
        if (read == 0)
        {
            return AnotherRead; // not the end of the body: 0 would say it was
        }

        // Every CR of a run at the end: "\r\r" made "\r\n" would be one line end, not two.
        for (var i = read - 1; i >= 0 && span[i] == (byte)'\r'; i--)
        {
            span[i] = (byte)'\n';
            _endedOnCarriageReturn = true;
        }

        return read;
    }
}
