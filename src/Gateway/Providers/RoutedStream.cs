using System.Diagnostics;
using Gateway.Resilience;
using Gateway.Telemetry;
using Microsoft.Extensions.AI;

namespace Gateway.Providers;

/// <summary>
/// One routed stream, read as an enumerator. The first <see cref="MoveNextAsync"/> routes the request (see
/// <see cref="RoutedChat.StartStreamAsync"/>) and returns once the first token is in; every later one is the winning
/// <see cref="StreamAttempt"/>'s own, passed straight through. A compiler-built iterator here would add a state machine
/// to every token's way and to the request's way to the upstream, for nothing but a loop.
/// Disposing it ends the attempt, the total timeout and the routing span, in that order.
/// </summary>
internal sealed class RoutedStream(
    RoutedChat chat, ModelRoute route, IReadOnlyList<ChatMessage> messages, ChatOptions options, RouteTrace trace, CancellationToken cancellationToken)
    : IAsyncEnumerator<ChatResponseUpdate>
{
    private Activity? _routing;
    private TimeoutSource? _total;
    private StreamAttempt? _attempt;

    public ChatResponseUpdate Current => _attempt!.Current;

    public ValueTask<bool> MoveNextAsync() => _attempt is { } attempt ? attempt.MoveNextAsync() : StartAsync();

    private async ValueTask<bool> StartAsync()
    {
        if (_total is not null)
        {
            throw new InvalidOperationException("The stream failed to start; it cannot be read again.");
        }

        _routing = GatewayActivities.StartRouting(route.Alias);
        _total = chat.TotalTimeout(route, cancellationToken);
        try
        {
            _attempt = await chat.StartStreamAsync(route, messages, options, trace, cancellationToken, _total.Token).ConfigureAwait(false);
        }
        catch
        {
            // As an iterator's using blocks would: the span and the clock end with the failure, not at disposal.
            EndRouting();
            throw;
        }

        return await _attempt.MoveNextAsync().ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        if (_attempt is { } attempt)
        {
            _attempt = null;
            await attempt.DisposeAsync().ConfigureAwait(false);
        }

        EndRouting();
    }

    private void EndRouting()
    {
        _total?.Dispose();
        _routing?.Dispose();
        _routing = null;
    }
}
