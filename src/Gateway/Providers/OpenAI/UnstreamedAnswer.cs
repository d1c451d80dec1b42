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
    private const int MaxBytes = EventSizeLimit.MaxBytes;

    /// <summary>
    /// The body's first bytes, read to see what it is: the whole JSON document when it is one, or else a stream that
    /// gives back the bytes read and then the rest, for the event parser.
    /// </summary>
    public static async ValueTask<(byte[]? Document, Stream Events)> ReadAsync(Stream body, CancellationToken cancellationToken)
    {
        // Until the first byte that tells (a server may send a byte order mark or white space in writes of their own).
        var head = new byte[4096];
        var length = 0;
        int read;
        while ((read = await body.ReadAsync(head.AsMemory(length), cancellationToken).ConfigureAwait(false)) > 0)
        {
            length += read;
            if (WithoutPreamble(head.AsSpan(0, length)).Length > 0 || length == head.Length)
            {
                break;
            }
        }

        var start = length - WithoutPreamble(head.AsSpan(0, length)).Length;
        if (start == length || head[start] != (byte)'{')
        {
            return (null, new ReplayStream(head.AsMemory(0, length), body));
        }

        var document = new ArrayBufferWriter<byte>(Math.Max(length * 2, 4096));
        document.Write(head.AsSpan(start, length - start)); // the JSON reader refuses a byte order mark
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

    /// <summary>What follows a byte order mark (or the start of one) and white space: empty while nothing tells yet.</summary>
    private static ReadOnlySpan<byte> WithoutPreamble(ReadOnlySpan<byte> head)
    {
        var bom = ByteOrderMark.Utf8;
        var marked = head.Length < bom.Length ? bom.StartsWith(head) : head.StartsWith(bom);
        if (marked)
        {
            head = head[Math.Min(bom.Length, head.Length)..];
        }

        var start = head.IndexOfAnyExcept(" \t\r\n"u8);
        return start < 0 ? [] : head[start..];
    }

    /// <summary>The bytes already read, then the rest of the body.</summary>
    private sealed class ReplayStream(ReadOnlyMemory<byte> head, Stream rest) : AsyncReadStream(rest)
    {
        private ReadOnlyMemory<byte> _head = head;

        // Not async: once the head is given back, each read is the body's own, with nothing allocated per token.
        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (_head.IsEmpty)
            {
                return Inner.ReadAsync(buffer, cancellationToken);
            }

            var count = Math.Min(buffer.Length, _head.Length);
            _head.Span[..count].CopyTo(buffer.Span);
            _head = _head[count..];
            return ValueTask.FromResult(count);
        }
    }
}
