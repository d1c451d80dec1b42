using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.AI;

namespace Gateway.Providers.OpenAI;

/// <summary>
/// A streamed completion from an OpenAI-compatible server, read as its events arrive: the first
/// <see cref="MoveNextAsync"/> sends the request, each one after reads the next chunk through
/// <see cref="StreamingChunkReader"/>. Whatever fails on the way leaves as <see cref="UpstreamException"/>. One
/// hand-written enumerator, because a compiler-built iterator plus the method that translates its failures were two
/// state machines on every token's way.
/// </summary>
internal sealed class OpenAiStreamingResponse(
    Func<CancellationToken, Task<HttpResponseMessage>> send, OpenAiErrorTranslator errors, CancellationToken cancellationToken)
    : IAsyncEnumerable<ChatResponseUpdate>, IAsyncEnumerator<ChatResponseUpdate>
{
    private readonly StreamingChunkReader _chunks = new();
    private CancellationToken _cancellationToken = cancellationToken;
    private CancellationTokenSource? _linked;
    private HttpResponseMessage? _response;
    private IAsyncEnumerator<SseItem<ChatResponseUpdate?>>? _events;
    private bool _enumerated;
    private bool _ended;

    public ChatResponseUpdate Current { get; private set; } = null!;

    /// <summary>Read once, as an iterator method's result is; a token given here also cancels the read.</summary>
    public IAsyncEnumerator<ChatResponseUpdate> GetAsyncEnumerator(CancellationToken cancellationToken = default)
    {
        if (_enumerated)
        {
            throw new InvalidOperationException("A streamed completion can be read only once.");
        }

        _enumerated = true;
        if (cancellationToken.CanBeCanceled && cancellationToken != _cancellationToken)
        {
            _linked = CancellationTokenSource.CreateLinkedTokenSource(_cancellationToken, cancellationToken);
            _cancellationToken = _linked.Token;
        }

        return this;
    }

    // Called once per streamed chunk and usually completes asynchronously: the pooling builder reuses its state
    // machine box instead of allocating one per chunk.
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<bool> MoveNextAsync()
    {
        if (_ended)
        {
            return false;
        }

        try
        {
            _events ??= await StartAsync().ConfigureAwait(false);
            if (!await _events.MoveNextAsync().ConfigureAwait(false))
            {
                _ended = true;
                if (!_chunks.SawFinishReason)
                {
                    // The connection closed cleanly, but the completion never finished: that upstream died.
                    throw new UpstreamException(UpstreamFailure.Connection, "The upstream stream ended before the completion finished.");
                }

                return false;
            }

            if (_events.Current.Data is not { } update)
            {
                _ended = true; // [DONE]
                return false;
            }

            Current = update;
            return true;
        }
        catch (Exception exception) when (errors.Translate(exception, _cancellationToken) is { } upstream && upstream != exception)
        {
            throw upstream;
        }
    }

    private async Task<IAsyncEnumerator<SseItem<ChatResponseUpdate?>>> StartAsync()
    {
        _response = await send(_cancellationToken).ConfigureAwait(false);
        var body = new ZeroByteReadStream(await _response.Content.ReadAsStreamAsync(_cancellationToken).ConfigureAwait(false));
        return SseParser.Create(body, _chunks.Parse).EnumerateAsync(_cancellationToken).GetAsyncEnumerator(_cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        _ended = true;
        if (_events is not null)
        {
            await _events.DisposeAsync().ConfigureAwait(false);
        }

        _response?.Dispose();
        _linked?.Dispose();
    }
}
