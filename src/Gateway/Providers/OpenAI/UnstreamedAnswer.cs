using System.Buffers;

namespace Gateway.Providers.OpenAI;

/// <summary>
/// A 200 to a streamed request whose body is one JSON document rather than events: a server that ignores
/// <c>stream: true</c> answers with the whole <c>chat.completion</c>, and some report an error that way
/// (<c>{"error":…}</c>). Read as events, such a body held none, so a good answer was thrown away (and asked for again)
/// as a stream "ended before the completion finished", and an error lost its message. Only a body not labelled
/// <c>text/event-stream</c> is looked at: an event stream never starts with <c>{</c>, whatever its label.
/// </summary>
internal static class UnstreamedAnswer
{
    /// <summary>The most of a whole answer read into memory: a flow caps a model's text at 4 Mi characters.</summary>
    private const int MaxBytes = 16 * 1024 * 1024;

    /// <summary>
    /// The body's first bytes, read to see what it is: the whole JSON document when it is one, or else a stream that
    /// gives back the bytes read and then the rest, for the event parser.
    /// </summary>
    public static async ValueTask<(byte[]? Document, Stream Events)> ReadAsync(Stream body, CancellationToken cancellationToken)
    {
        var buffer = new byte[4096];
        var read = await body.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
        if (!StartsAnObject(buffer.AsSpan(0, read)))
        {
            return (null, new ReplayStream(buffer.AsMemory(0, read), body));
        }

        var document = new ArrayBufferWriter<byte>(Math.Max(read * 2, 4096));
        document.Write(buffer.AsSpan(0, read));
        while ((read = await body.ReadAsync(document.GetMemory(16 * 1024), cancellationToken).ConfigureAwait(false)) > 0)
        {
            document.Advance(read);
            if (document.WrittenCount > MaxBytes)
            {
                throw new UpstreamException(UpstreamFailure.Protocol, $"The upstream answered a streamed request with one document of more than {MaxBytes / (1024 * 1024)} MiB.");
            }
        }

        return (document.WrittenSpan.ToArray(), Stream.Null);
    }

    /// <summary>Whether the first byte past a byte order mark and white space is <c>{</c>.</summary>
    private static bool StartsAnObject(ReadOnlySpan<byte> head)
    {
        if (head.StartsWith("\xEF\xBB\xBF"u8))
        {
            head = head[3..];
        }

        var start = head.IndexOfAnyExcept(" \t\r\n"u8);
        return start >= 0 && head[start] == (byte)'{';
    }

    /// <summary>The bytes already read, then the rest of the body.</summary>
    private sealed class ReplayStream(ReadOnlyMemory<byte> head, Stream rest) : Stream
    {
        private ReadOnlyMemory<byte> _head = head;

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (_head.IsEmpty)
            {
                return await rest.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
            }

            var count = Math.Min(buffer.Length, _head.Length);
            _head.Span[..count].CopyTo(buffer.Span);
            _head = _head[count..];
            return count;
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                rest.Dispose();
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
}
