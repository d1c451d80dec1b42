using System.IO.Pipelines;
using System.Text;
using Gateway.Streaming;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Gateway.Tests.Streaming;

public sealed class SseWriterTests
{
    /// <summary>
    /// A run's record may be megabytes, and each watcher encodes its own copy: written whole before its flush, a watcher
    /// that stopped reading held all of it (400 of them held 1.2 GB of a 2.5 MB run). It goes out in pieces, each flushed.
    /// </summary>
    [Fact]
    public async Task WriteEventAsync_FlushesALargeEventInPieces_SoAClientThatStoppedReadingHoldsOnlyAPiece()
    {
        var pipe = new RecordingPipeWriter();
        using var sse = new SseWriter(Response(pipe));
        var data = "\"" + new string('a', 3_000_000) + "\"";

        await sse.WriteEventAsync(7, "run.completed", data, CancellationToken.None);

        Assert.InRange(pipe.MostUnflushed, 1, 3 * SseWriter.EventPieceChars + 64);
        Assert.Equal($"id: 7\nevent: run.completed\ndata: {data}\n\n", pipe.Text);
    }

    [Fact]
    public async Task WriteEventAsync_KeepsASurrogatePairWhole_WherePiecesMeet()
    {
        var pipe = new RecordingPipeWriter();
        using var sse = new SseWriter(Response(pipe));
        // The pair's high surrogate is the last character of the first piece.
        var data = new string('a', SseWriter.EventPieceChars - 1) + "😀" + new string('b', SseWriter.EventPieceChars);

        await sse.WriteEventAsync(1, "token", data, CancellationToken.None);

        Assert.Equal($"id: 1\nevent: token\ndata: {data}\n\n", pipe.Text);
    }

    [Fact]
    public async Task WriteEventAsync_WritesASmallEventWithOneFlush()
    {
        var pipe = new RecordingPipeWriter();
        using var sse = new SseWriter(Response(pipe));

        await sse.WriteEventAsync(2, "token", "{\"text\":\"hi\"}", CancellationToken.None);

        Assert.Equal(1, pipe.Flushes);
        Assert.Equal("id: 2\nevent: token\ndata: {\"text\":\"hi\"}\n\n", pipe.Text);
    }

    private static HttpResponse Response(PipeWriter writer)
    {
        var context = new DefaultHttpContext();
        context.Features.Set<IHttpResponseBodyFeature>(new BodyFeature(writer));
        return context.Response;
    }

    private sealed class BodyFeature(PipeWriter writer) : IHttpResponseBodyFeature
    {
        public Stream Stream => throw new NotSupportedException();

        public PipeWriter Writer => writer;

        public void DisableBuffering()
        {
        }

        public Task StartAsync(CancellationToken cancellationToken = default) => Task.CompletedTask;

        public Task SendFileAsync(string path, long offset, long? count, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public Task CompleteAsync() => Task.CompletedTask;
    }

    /// <summary>Keeps what is written, and the most that was ever written between two flushes.</summary>
    private sealed class RecordingPipeWriter : PipeWriter
    {
        private readonly MemoryStream _written = new();
        private byte[] _buffer = new byte[4096];
        private long _unflushed;

        public long MostUnflushed { get; private set; }

        public int Flushes { get; private set; }

        public string Text => Encoding.UTF8.GetString(_written.ToArray());

        public override void Advance(int bytes)
        {
            _written.Write(_buffer, 0, bytes);
            _unflushed += bytes;
            MostUnflushed = Math.Max(MostUnflushed, _unflushed);
        }

        public override Memory<byte> GetMemory(int sizeHint = 0)
        {
            if (sizeHint > _buffer.Length)
            {
                _buffer = new byte[sizeHint];
            }

            return _buffer;
        }

        public override Span<byte> GetSpan(int sizeHint = 0) => GetMemory(sizeHint).Span;

        public override ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken = default)
        {
            Flushes++;
            _unflushed = 0;
            return ValueTask.FromResult(new FlushResult(isCanceled: false, isCompleted: false));
        }

        public override void CancelPendingFlush()
        {
        }

        public override void Complete(Exception? exception = null)
        {
        }
    }
}
