using Polly.CircuitBreaker;

namespace Gateway.Resilience;

/// <summary>
/// The provider's circuit breaker, past the response headers. Polly's breaker sits on the HTTP call, which for a
/// stream ends with its 200: a provider that answers 200 and then sends an error event, nothing, or nothing in time,
/// failed every stream while its breaker counted successes, and every caller waited out the first-token timeout, on
/// each retry, before falling back. This counts how a provider's streams start once their headers are in, on the
/// breaker's own settings, and when too many fail it isolates the breaker for <c>BreakSeconds</c>, as the breaker
/// opens for failures it sees. (Isolated, the breaker refuses calls as when open; it closes when the break is over.)
/// </summary>
internal sealed class StreamStartHealth(CircuitBreakerOptions settings, CircuitBreakerManualControl breaker, TimeProvider timeProvider)
{
    private readonly Lock _gate = new();
    private readonly Queue<(long At, bool Failed)> _starts = new();
    private readonly long _window = (long)(settings.SamplingSeconds * timeProvider.TimestampFrequency);
    private readonly long _break = (long)(settings.BreakSeconds * timeProvider.TimestampFrequency);
    private int _failures;

    /// <summary>When the isolation ends, as a timestamp; 0 when the breaker is not isolated by this.</summary>
    private long _isolatedUntil;

    /// <summary>How long the isolation has left, while there is one.</summary>
    public TimeSpan? IsolationLeft
    {
        get
        {
            var until = Volatile.Read(ref _isolatedUntil);
            if (until == 0)
            {
                return null;
            }

            var left = timeProvider.GetElapsedTime(timeProvider.GetTimestamp(), until);
            return left > TimeSpan.Zero ? left : null;
        }
    }

    /// <summary>A stream whose headers came in brought its first token.</summary>
    public ValueTask StartedAsync() => RecordAsync(failed: false);

    /// <summary>A stream whose headers came in (a success status) failed before its first token.</summary>
    public ValueTask FailedAfterHeadersAsync() => RecordAsync(failed: true);

    /// <summary>Before an attempt at the provider: ends an isolation whose break is over.</summary>
    public async ValueTask BeforeAttemptAsync()
    {
        if (Volatile.Read(ref _isolatedUntil) == 0)
        {
            return;
        }

        lock (_gate)
        {
            if (_isolatedUntil == 0 || timeProvider.GetTimestamp() < _isolatedUntil)
            {
                return;
            }

            _isolatedUntil = 0;
        }

        await breaker.CloseAsync().ConfigureAwait(false);
    }

    private async ValueTask RecordAsync(bool failed)
    {
        lock (_gate)
        {
            if (_isolatedUntil != 0)
            {
                return;
            }

            var now = timeProvider.GetTimestamp();
            _starts.Enqueue((now, failed));
            _failures += failed ? 1 : 0;
            while (_starts.Peek().At < now - _window)
            {
                _failures -= _starts.Dequeue().Failed ? 1 : 0;
            }

            if (_starts.Count < settings.MinimumThroughput || (double)_failures / _starts.Count < settings.FailureRatio)
            {
                return;
            }

            _isolatedUntil = now + _break;
            _starts.Clear();
            _failures = 0;
        }

        await breaker.IsolateAsync().ConfigureAwait(false);
    }
}
