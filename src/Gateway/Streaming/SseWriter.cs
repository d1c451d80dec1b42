using System.Buffers;
using System.Buffers.Text;
using System.IO.Pipelines;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace Gateway.Streaming;

/// <summary>
/// Writes Server-Sent Events straight onto the response's <see cref="PipeWriter"/> and flushes each one, so every
/// event leaves the process the moment it exists. One instance per response; not thread-safe.
/// </summary>
internal sealed class SseWriter : IDisposable
{
    private readonly HttpResponse _response;
    private readonly PipeWriter _pipe;
    private readonly Utf8JsonWriter _json;

    public SseWriter(HttpResponse response)
    {
        _response = response;
        _pipe = response.BodyWriter;
        _json = new Utf8JsonWriter(_pipe, new JsonWriterOptions { SkipValidation = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
    }

    /// <summary>
    /// The headers every event stream carries: <c>X-Accel-Buffering: no</c> makes nginx pass events on even where
    /// its proxy buffering is on, and <c>no-cache</c> keeps other proxies from holding them back.
    /// </summary>
    public void StartResponse() => StartResponse(_response);

    /// <inheritdoc cref="StartResponse()"/>
    public static void StartResponse(HttpResponse response)
    {
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-cache";
        response.Headers["X-Accel-Buffering"] = "no";
        response.HttpContext.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpResponseBodyFeature>()?.DisableBuffering();
    }

    /// <summary>Writes <c>data: {json}</c> and flushes.</summary>
    public ValueTask<FlushResult> WriteDataAsync<T>(T value, JsonTypeInfo<T> typeInfo, CancellationToken cancellationToken)
    {
        _pipe.Write("data: "u8);
        WriteJson(value, typeInfo);
        _pipe.Write("\n\n"u8);
        return _pipe.FlushAsync(cancellationToken);
    }

    /// <summary>
    /// Writes <c>data: {json}</c> with a hand-written writer and flushes: for events sent once per token, where the
    /// serializer's per-call state and the event's object graph would be most of what a token allocates.
    /// </summary>
    public ValueTask<FlushResult> WriteDataAsync<TState>(in TState state, JsonWrite<TState> write, CancellationToken cancellationToken)
        where TState : struct, allows ref struct
    {
        _pipe.Write("data: "u8);
        _json.Reset(_pipe);
        write(_json, state);
        _json.Flush();
        _pipe.Write("\n\n"u8);
        return _pipe.FlushAsync(cancellationToken);
    }

    /// <summary>Writes <c>data: {text}</c> for a literal payload such as <c>[DONE]</c>, and flushes.</summary>
    public ValueTask<FlushResult> WriteDataAsync(ReadOnlySpan<byte> utf8Payload, CancellationToken cancellationToken)
    {
        _pipe.Write("data: "u8);
        _pipe.Write(utf8Payload);
        _pipe.Write("\n\n"u8);
        return _pipe.FlushAsync(cancellationToken);
    }

    /// <summary>
    /// Writes <c>id: N</c>, <c>event: name</c> and one <c>data:</c> line, and flushes: a named event that a client can
    /// resume after (<c>Last-Event-ID</c>). <paramref name="data"/> must be one line, as serialized JSON is.
    /// </summary>
    public ValueTask<FlushResult> WriteEventAsync(long id, string name, string data, CancellationToken cancellationToken)
    {
        _pipe.Write("id: "u8);
        Utf8Formatter.TryFormat(id, _pipe.GetSpan(20), out var written);
        _pipe.Advance(written);
        _pipe.Write("\nevent: "u8);
        Encoding.UTF8.GetBytes(name, _pipe);
        _pipe.Write("\ndata: "u8);
        if (data.Length > EventPieceChars)
        {
            return WriteInPiecesAsync(data, cancellationToken);
        }

        Encoding.UTF8.GetBytes(data, _pipe);
        _pipe.Write("\n\n"u8);
        return _pipe.FlushAsync(cancellationToken);
    }

    /// <summary>
    /// The most of an event's data (in characters, up to three bytes each) put into the response's buffers before they
    /// are flushed: a flush waits while the client is behind, so a client that stops reading holds this much of the
    /// gateway's memory, not the whole event. A run's record may be megabytes, and every watcher of a run encodes its
    /// own copy: 400 watchers that did not read a run of 2.5 MB held 1.2 GB until they were cut off.
    /// </summary>
    internal const int EventPieceChars = 16 * 1024;

    private async ValueTask<FlushResult> WriteInPiecesAsync(string data, CancellationToken cancellationToken)
    {
        var start = 0;
        while (true)
        {
            var length = Math.Min(EventPieceChars, data.Length - start);
            // A surrogate pair split across two pieces would be encoded as two replacement characters.
            if (start + length < data.Length && char.IsHighSurrogate(data[start + length - 1]))
            {
                length--;
            }

            Encoding.UTF8.GetBytes(data.AsSpan(start, length), _pipe);
            start += length;
            if (start == data.Length)
            {
                break;
            }

            var flushed = await _pipe.FlushAsync(cancellationToken);
            if (flushed.IsCanceled || flushed.IsCompleted)
            {
                return flushed;
            }
        }

        _pipe.Write("\n\n"u8);
        return await _pipe.FlushAsync(cancellationToken);
    }

    /// <summary>Writes <c>retry: N</c>, how long a client waits before it reconnects, and flushes.</summary>
    public ValueTask<FlushResult> WriteRetryAsync(int milliseconds, CancellationToken cancellationToken)
    {
        _pipe.Write("retry: "u8);
        Utf8Formatter.TryFormat(milliseconds, _pipe.GetSpan(11), out var written);
        _pipe.Advance(written);
        _pipe.Write("\n\n"u8);
        return _pipe.FlushAsync(cancellationToken);
    }

    /// <summary>
    /// Writes the comment <c>: keep-alive</c> and flushes: clients ignore it, but proxies and load balancers see
    /// bytes and do not time an idle stream out.
    /// </summary>
    public ValueTask<FlushResult> WriteKeepAliveAsync(CancellationToken cancellationToken)
    {
        _pipe.Write(": keep-alive\n\n"u8);
        return _pipe.FlushAsync(cancellationToken);
    }

    private void WriteJson<T>(T value, JsonTypeInfo<T> typeInfo)
    {
        _json.Reset(_pipe);
        JsonSerializer.Serialize(_json, value, typeInfo);
        _json.Flush();
    }

    public void Dispose() => _json.Dispose();
}

/// <summary>Writes one JSON value from <paramref name="state"/>.</summary>
internal delegate void JsonWrite<TState>(Utf8JsonWriter writer, in TState state)
    where TState : struct, allows ref struct;
