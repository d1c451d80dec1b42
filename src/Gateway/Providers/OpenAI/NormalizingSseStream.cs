using System.Buffers;
using System.Runtime.CompilerServices;

namespace Gateway.Providers.OpenAI;

/// <summary>
/// Wraps an upstream <c>text/event-stream</c> body and hands the SDK only whole lines, after
/// <see cref="ChunkInspector"/> has looked at each <c>data:</c> payload. It also notices a stream that ends
/// with neither <c>[DONE]</c> nor a finish reason: that upstream died, and saying so beats a silent truncation.
/// </summary>
internal sealed class NormalizingSseStream(Stream inner) : Stream
{
    private const int InitialBufferSize = 16 * 1024;

    private byte[] _buffer = [];
    private int _start;      // first byte not yet handed out
    private int _ready;      // end of the whole lines that may be handed out
    private int _end;        // end of the bytes read from the upstream
    private int _scanned;    // end of the bytes already inspected
    private byte[]? _rewritten;
    private int _rewrittenOffset;
    private int _pendingSkipTo;     // where reading resumes once the rewritten line is out
    private bool _sawDone;
    private bool _sawFinishReason;
    private bool _upstreamEnded;

    // Called for every upstream read; the pooling builder reuses its state machine box instead of allocating one per read.
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public override async ValueTask<int> ReadAsync(Memory<byte> destination, CancellationToken cancellationToken = default)
    {
        while (true)
        {
            if (_rewritten is not null)
            {
                return CopyRewritten(destination.Span);
            }

            if (_start < _ready)
            {
                var count = Math.Min(destination.Length, _ready - _start);
                _buffer.AsSpan(_start, count).CopyTo(destination.Span);
                _start += count;
                return count;
            }

            if (_upstreamEnded)
            {
                return 0;
            }

            if (ScanNextLine())
            {
                continue;
            }

            if (_start == _end)
            {
                // Nothing is buffered, and a slow upstream may stay quiet for seconds: wait for its next bytes holding
                // no buffer. HttpClient's response streams complete a zero-byte read when data arrives (others at
                // once, which costs nothing but the call); thousands of open streams would otherwise pin 16 KiB each.
                ReleaseBuffer();
                await inner.ReadAsync(Memory<byte>.Empty, cancellationToken).ConfigureAwait(false);
                _buffer = ArrayPool<byte>.Shared.Rent(InitialBufferSize);
            }
            else
            {
                Compact();
            }

            var read = await inner.ReadAsync(_buffer.AsMemory(_end), cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                EndOfUpstream();
                continue;
            }

            _end += read;
        }
    }

    /// <summary>Inspects the next whole line, if there is one; a rewritten line is handed out before later ones.</summary>
    private bool ScanNextLine()
    {
        var newline = _buffer.AsSpan(_scanned, _end - _scanned).IndexOf((byte)'\n');
        if (newline < 0)
        {
            return false;
        }

        var lineStart = _scanned;
        var lineEnd = _scanned + newline + 1;
        _scanned = lineEnd;
        var rewritten = InspectLine(_buffer.AsSpan(lineStart, lineEnd - lineStart));
        if (rewritten is null)
        {
            _ready = lineEnd;
            return true;
        }

        // Hand out what came before the line, then the rewritten line, then carry on after it.
        _ready = lineStart;
        _rewritten = rewritten;
        _rewrittenOffset = 0;
        _pendingSkipTo = lineEnd;
        return true;
    }

    private int CopyRewritten(Span<byte> destination)
    {
        if (_start < _ready)
        {
            var before = Math.Min(destination.Length, _ready - _start);
            _buffer.AsSpan(_start, before).CopyTo(destination);
            _start += before;
            return before;
        }

        var count = Math.Min(destination.Length, _rewritten!.Length - _rewrittenOffset);
        _rewritten.AsSpan(_rewrittenOffset, count).CopyTo(destination);
        _rewrittenOffset += count;
        if (_rewrittenOffset == _rewritten.Length)
        {
            _rewritten = null;
            _start = _ready = _pendingSkipTo;
        }

        return count;
    }

    private byte[]? InspectLine(ReadOnlySpan<byte> line)
    {
        var content = line.TrimEnd("\r\n"u8);
        if (!content.StartsWith("data:"u8))
        {
            return null;
        }

        var payload = content["data:"u8.Length..].TrimStart((byte)' ');
        if (payload.SequenceEqual("[DONE]"u8))
        {
            _sawDone = true;
            return null;
        }

        var rewritten = ChunkInspector.Inspect(payload, out var finished);
        _sawFinishReason |= finished;
        return rewritten is null ? null : [.. "data: "u8, .. rewritten, .. "\n"u8];
    }

    private void EndOfUpstream()
    {
        if (_scanned < _end)
        {
            // A last line without its newline: inspect it all the same.
            var rewritten = InspectLine(_buffer.AsSpan(_scanned, _end - _scanned));
            if (rewritten is not null)
            {
                _ready = _scanned;
                _rewritten = rewritten;
                _rewrittenOffset = 0;
                _pendingSkipTo = _end;
            }
            else
            {
                _ready = _end;
            }

            _scanned = _end;
        }

        _upstreamEnded = true;
        if (!_sawDone && !_sawFinishReason)
        {
            throw new UpstreamException(UpstreamFailure.Connection, "The upstream stream ended before the completion finished.");
        }
    }

    private void ReleaseBuffer()
    {
        var buffer = Interlocked.Exchange(ref _buffer, []);
        if (buffer.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        _start = _ready = _scanned = _end = 0;
    }

    /// <summary>Moves unread bytes to the front, growing the buffer when a single line fills it.</summary>
    private void Compact()
    {
        if (_start > 0)
        {
            var length = _end - _start;
            _buffer.AsSpan(_start, length).CopyTo(_buffer);
            _ready -= _start;
            _scanned -= _start;
            _end = length;
            _start = 0;
        }

        if (_end == _buffer.Length)
        {
            var larger = ArrayPool<byte>.Shared.Rent(_buffer.Length * 2);
            _buffer.AsSpan(0, _end).CopyTo(larger);
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = larger;
        }
    }

    // The SDK is only used asynchronously here; a blocking read would tie up a thread on I/O.
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            inner.Dispose();
            ReleaseBuffer();
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
