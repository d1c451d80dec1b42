using System.Runtime.CompilerServices;
using Gateway.Providers;
using Gateway.Providers.Tools;
using Microsoft.Extensions.AI;

namespace Gateway.Resilience;

/// <summary>
/// One try at streaming from one deployment. It owns the upstream enumerator and the clocks that bound it: the
/// first-token timeout until the first token (or a reasoning model's first thinking) has arrived, then the idle
/// timeout between chunks, under the request's total timeout. The first token is peeked before anything reaches the
/// caller, so a failure up to then can still be retried; a failure after it surfaces as <see cref="UpstreamException"/>
/// and is never retried.
/// </summary>
internal sealed class StreamAttempt : IAsyncDisposable
{
    private readonly UpstreamCall _call;
    private readonly CancellationToken _callerToken;
    private readonly CancellationToken _totalToken;
    private readonly TimeoutSource _timer;
    private readonly List<ChatResponseUpdate> _peeked = [];
    private IAsyncEnumerator<ChatResponseUpdate>? _upstream;
    private int _peekedIndex;
    private bool _started;

    /// <summary>The model has begun to think, where its thinking reaches no one: the idle clock times it.</summary>
    private bool _thinking;

    /// <summary>The chunks of that thinking: what this attempt spent, if it fails before its first token.</summary>
    private long _thinkingChunks;

    /// <summary>A chunk carried the answer's <c>finish_reason</c>: the answer is whole, whatever comes after it.</summary>
    private bool _finished;

    private StreamAttempt(UpstreamCall call, TimeProvider timeProvider, CancellationToken callerToken, CancellationToken totalToken)
    {
        _call = call;
        _callerToken = callerToken;
        _totalToken = totalToken;
        // The total token already follows the caller's: one source under it carries all three.
        _timer = new TimeoutSource(Timeout.InfiniteTimeSpan, timeProvider, totalToken);
        call.UseFirstTokenTimer(_timer, timeProvider);
    }

    public ChatResponseUpdate Current { get; private set; } = null!;

    /// <summary>
    /// Starts the stream and waits for its first token; throws <see cref="UpstreamException"/> if none comes.
    /// <paramref name="totalToken"/> is cancelled by the request's total timeout and by the caller alike.
    /// </summary>
    public static async ValueTask<StreamAttempt> StartAsync(
        UpstreamCall call, IReadOnlyList<ChatMessage> messages, ChatOptions options,
        TimeProvider timeProvider, CancellationToken callerToken, CancellationToken totalToken)
    {
        var attempt = new StreamAttempt(call, timeProvider, callerToken, totalToken);
        try
        {
            await attempt.PeekFirstTokenAsync(messages, options).ConfigureAwait(false);
            return attempt;
        }
        catch
        {
            if (attempt._thinkingChunks > 0)
            {
                call.LostWhileThinking(attempt._thinkingChunks);
            }

            await attempt.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private async ValueTask PeekFirstTokenAsync(IReadOnlyList<ChatMessage> messages, ChatOptions options)
    {
        _call.StreamAttemptStarting();
        UpstreamCall.Current = _call;
        _upstream = _call.Deployment.Client.GetStreamingResponseAsync(messages, options, _timer.Token).GetAsyncEnumerator(_timer.Token);
        while (await NextFromUpstreamAsync().ConfigureAwait(false))
        {
            var update = _upstream.Current;
            _peeked.Add(update);
            if (update.FinishReason is not null || HasOutput(update) || (HasThinking(update) && _call.ThinkingReachesCaller))
            {
                // The first-token clock has done its work. Left running, it ran out while the caller wrote this token
                // to a client slow to take it, and the next read failed as "sent nothing mid-stream". The idle clock
                // starts at that read.
                _timer.CancelAfter(Timeout.InfiniteTimeSpan);
                if (_timer.IsCancellationRequested)
                {
                    // It ran out between the read and the line above: the upstream's connection is closing under the
                    // token, and the stream cannot go on. Nothing has gone out, so this is a first token too late, which
                    // is retried, not a stream that breaks after its first token.
                    _callerToken.ThrowIfCancellationRequested();
                    throw TimedOut(inner: null);
                }

                _started = true;
                return;
            }

            if (HasThinking(update))
            {
                // Thinking that reaches no one: a failure now is still retried, as nothing has gone out. The model is
                // working, though, so from here the idle clock times it, not the first-token clock.
                _thinking = true;
                _thinkingChunks++;
                _timer.CancelAfter(_call.Options.IdleTimeout);
            }
        }

        throw new UpstreamException(UpstreamFailure.Protocol, "The upstream stream ended before its first token.") { Reason = "empty stream" };
    }

    // Pooled: these run once per token and usually complete asynchronously, so each would otherwise box its state machine.
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<bool> MoveNextAsync()
    {
        if (_peekedIndex < _peeked.Count)
        {
            Current = _peeked[_peekedIndex++];
            return true;
        }

        _timer.CancelAfter(_call.Options.IdleTimeout);
        if (!await NextFromUpstreamAsync().ConfigureAwait(false))
        {
            return false;
        }

        // The idle clock times the upstream alone. Until the next call, the caller is writing this chunk to its client,
        // which a slow reader may hold up for longer than the idle timeout while the upstream waits, healthy.
        _timer.CancelAfter(Timeout.InfiniteTimeSpan);
        Current = _upstream!.Current;
        return true;
    }

    /// <summary>
    /// Moves the upstream on, naming the clock that ran out when a timeout cancels it. Once the answer has its
    /// <c>finish_reason</c>, a failure (the connection reset or stalled before the usage chunk or <c>[DONE]</c>) ends
    /// the stream instead: the answer is whole, and its usage is estimated as for a server that reports none. Until
    /// 2026-12-06 such an answer ended in an error, and a flow's node failed and lost its whole output.
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<bool> NextFromUpstreamAsync()
    {
        try
        {
            if (!await _upstream!.MoveNextAsync().ConfigureAwait(false))
            {
                return false;
            }

            _finished |= _upstream.Current.FinishReason is not null;
            return true;
        }
        catch (Exception exception) when (exception is UpstreamException or OperationCanceledException && _finished && !_callerToken.IsCancellationRequested)
        {
            _call.FailedAfterFinish(exception is UpstreamException upstream ? upstream.LogText : TimedOut(exception).Message);
            return false;
        }
        catch (OperationCanceledException exception) when (!_callerToken.IsCancellationRequested && _timer.IsCancellationRequested)
        {
            throw TimedOut(exception);
        }
        catch (UpstreamException exception) when (_totalToken.IsCancellationRequested)
        {
            // The upstream's failure as the abort surfaced it (an error status whose body the abort cut short, a
            // connection closed under the read): the caller left, or the total timeout ran out, and that is what is told;
            // an error status here would be retried or fallen back from, in the log and the run's events, for nothing.
            _callerToken.ThrowIfCancellationRequested();
            throw TimedOut(exception);
        }
    }

    /// <summary>The failure of a clock that ran out: the total timeout's, the idle clock's or the first-token clock's.</summary>
    private UpstreamException TimedOut(Exception? inner)
    {
        var options = _call.Options;
        var provider = _call.Deployment.Provider;
        return _totalToken.IsCancellationRequested
            ? new UpstreamException(UpstreamFailure.Timeout, $"Provider '{provider}' did not finish within the total timeout of {options.TotalTimeoutSeconds:0.###} s.", inner: inner) { Reason = UpstreamException.TotalTimeoutReason }
            : _started || _thinking
                ? new UpstreamException(UpstreamFailure.Timeout, $"Provider '{provider}' sent no chunk for {options.IdleTimeoutSeconds:0.###} s mid-stream.", inner: inner) { Reason = "idle timeout" }
                : new UpstreamException(UpstreamFailure.Timeout, $"Provider '{provider}' sent no first token within {options.FirstTokenTimeoutSeconds:0.###} s.", inner: inner) { Reason = "first-token timeout" };
    }

    /// <summary>Whether the update carries the answer: text, a call to one of the caller's functions, or a refusal.</summary>
    private static bool HasOutput(ChatResponseUpdate update)
    {
        foreach (var content in update.Contents)
        {
            if (content is TextContent { Text.Length: > 0 } or RawToolCall or RefusalContent)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// A reasoning model's thinking: a model that thinks for longer than the first-token timeout before it answers is
    /// healthy. Where the thinking reaches the caller, it is the stream's first token.
    /// </summary>
    private static bool HasThinking(ChatResponseUpdate update) => UpdateContents.Reasoning(update).Length > 0;

    public async ValueTask DisposeAsync()
    {
        if (_upstream is not null)
        {
            await _upstream.DisposeAsync().ConfigureAwait(false);
        }

        _call.ReleaseFirstTokenTimer(_timer);
        _timer.Dispose();
    }
}
