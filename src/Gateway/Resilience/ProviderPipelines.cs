using System.Collections.Concurrent;
using Gateway.Providers;
using Microsoft.Extensions.Options;
using Polly;
using Polly.CircuitBreaker;
using Polly.Retry;
using Polly.Timeout;

namespace Gateway.Resilience;

/// <summary>
/// The Polly pipelines of every provider, built once from its effective <see cref="ResilienceOptions"/>:
/// one for its HTTP calls (retry, then its one circuit breaker, then the per-attempt timeout) and one for
/// starting a stream (retry of failures before the first token, on the same budget).
/// </summary>
internal sealed class ProviderPipelines(IOptionsMonitor<ResilienceOptions> options, TimeProvider timeProvider, ILogger<ProviderPipelines> logger)
{
    private static readonly ResiliencePropertyKey<UpstreamCall?> CallKey = new("gateway.upstream-call");

    /// <summary>The last attempt's 429 said the quota is gone (read by <see cref="ResilienceHandler"/>).</summary>
    private static readonly ResiliencePropertyKey<bool> QuotaKey = new("gateway.quota-exhausted");

    public static void SetQuotaExhausted(ResilienceContext context, bool exhausted) => context.Properties.Set(QuotaKey, exhausted);

    /// <summary>The retry about to be made will be refused unsent (<see cref="Refuses"/>): decided once, as its delay is.</summary>
    private static readonly ResiliencePropertyKey<bool> RefusedKey = new("gateway.retry-refused");

    private readonly ConcurrentDictionary<string, ResiliencePipeline<HttpResponseMessage>> _http = new(StringComparer.OrdinalIgnoreCase);
    private readonly ConcurrentDictionary<string, ResiliencePipeline> _streamStart = new(StringComparer.OrdinalIgnoreCase);
    private readonly ConcurrentDictionary<string, CircuitBreakerStateProvider> _circuits = new(StringComparer.OrdinalIgnoreCase);
    private readonly ConcurrentDictionary<string, StreamStartHealth> _streamHealth = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>When each provider's last break ends (Polly's own state says Open until a call arrives after it).</summary>
    private readonly ConcurrentDictionary<string, DateTimeOffset> _openUntil = new(StringComparer.OrdinalIgnoreCase);

    public TimeProvider TimeProvider => timeProvider;

    public ResilienceOptions OptionsFor(string provider) => options.Get(provider);

    /// <summary>The settings a call to <paramref name="deployment"/> runs under: its provider's, with its own first-token clock if it has one.</summary>
    public ResilienceOptions OptionsFor(Deployment deployment) =>
        deployment.FirstTokenTimeout is { } firstToken
            ? options.Get(deployment.Provider).WithFirstTokenTimeout(firstToken)
            : options.Get(deployment.Provider);

    /// <summary>The circuit state of every provider whose HTTP pipeline has been built (on its first call).</summary>
    public IEnumerable<(string Provider, CircuitState State)> CircuitStates =>
        _circuits.Select(pair => (pair.Key, pair.Value.CircuitState));

    /// <summary>Attaches the routed call, if any, so the strategies can share its budget and report through it.</summary>
    public static void Attach(ResilienceContext context, UpstreamCall? call) => context.Properties.Set(CallKey, call);

    public ResiliencePipeline<HttpResponseMessage> ForHttp(string provider)
    {
        if (_http.TryGetValue(provider, out var pipeline))
        {
            return pipeline;
        }

        // Built under a lock: a circuit-breaker state provider can be attached to one pipeline only, and the gauge
        // must observe the pipeline that is kept.
        lock (_circuits)
        {
            return _http.GetOrAdd(provider, static (name, self) => self.BuildHttp(name), this);
        }
    }

    /// <summary>How the provider's streams start past their headers, which its HTTP pipeline's breaker cannot see.</summary>
    public StreamStartHealth StreamHealthOf(string provider)
    {
        ForHttp(provider);
        return _streamHealth[provider];
    }

    public ResiliencePipeline ForStreamStart(string provider) =>
        _streamStart.GetOrAdd(provider, static (name, self) => self.BuildStreamStart(name), this);

    private ResiliencePipeline<HttpResponseMessage> BuildHttp(string provider)
    {
        var settings = options.Get(provider);
        var builder = new ResiliencePipelineBuilder<HttpResponseMessage> { TimeProvider = timeProvider };
        if (settings.MaxRetries > 0)
        {
            builder.AddRetry(WithBackoff<HttpResponseMessage>(settings, new RetryStrategyOptions<HttpResponseMessage>
            {
                ShouldHandle = args => ValueTask.FromResult(
                    FailureClassifier.IsTransient(args.Outcome.Result, args.Outcome.Exception)
                    && CallOf(args.Context)?.CanRetry != false
                    && !(args.Outcome.Result is { StatusCode: System.Net.HttpStatusCode.TooManyRequests } && args.Context.Properties.GetValue(QuotaKey, false))),
                DelayGenerator = args => ValueTask.FromResult(
                    DelayUnlessRefused(args.Context, provider, settings, RetryAfterDelay(args.Outcome.Result, settings), args.AttemptNumber)),
                OnRetry = args =>
                {
                    if (!args.Context.Properties.GetValue(RefusedKey, false))
                    {
                        CallOf(args.Context)?.Retrying(args.RetryDelay, FailureClassifier.Describe(args.Outcome.Result, args.Outcome.Exception));
                    }

                    args.Outcome.Result?.Dispose();
                    return ValueTask.CompletedTask;
                },
            }));
        }

        var breaker = new CircuitBreakerManualControl();
        _streamHealth[provider] = new StreamStartHealth(settings.CircuitBreaker, breaker, timeProvider);
        builder.AddCircuitBreaker(new CircuitBreakerStrategyOptions<HttpResponseMessage>
        {
            StateProvider = _circuits[provider] = new CircuitBreakerStateProvider(),
            ManualControl = breaker,
            FailureRatio = settings.CircuitBreaker.FailureRatio,
            MinimumThroughput = settings.CircuitBreaker.MinimumThroughput,
            SamplingDuration = TimeSpan.FromSeconds(settings.CircuitBreaker.SamplingSeconds),
            BreakDuration = TimeSpan.FromSeconds(settings.CircuitBreaker.BreakSeconds),
            ShouldHandle = args => ValueTask.FromResult(
                FailureClassifier.BreaksCircuit(args.Outcome.Result, args.Outcome.Exception, args.Context.Properties.GetValue(QuotaKey, false))),
            OnOpened = args =>
            {
                // Isolated by StreamStartHealth, Polly gives the longest duration there is: the break is BreakSeconds.
                var breakFor = args.IsManual ? TimeSpan.FromSeconds(settings.CircuitBreaker.BreakSeconds) : args.BreakDuration;
                _openUntil[provider] = timeProvider.GetUtcNow() + breakFor;
                RetryLog.CircuitOpened(logger, provider, (long)breakFor.TotalMilliseconds);
                return ValueTask.CompletedTask;
            },
            OnClosed = _ =>
            {
                RetryLog.CircuitClosed(logger, provider);
                return ValueTask.CompletedTask;
            },
        });

        // Up to the response headers only: a streamed body is bounded by the first-token, idle and total timeouts.
        builder.AddTimeout(new TimeoutStrategyOptions
        {
            TimeoutGenerator = args => ValueTask.FromResult(
                CallOf(args.Context) switch
                {
                    { IsStreaming: false } => settings.TotalTimeout,
                    { } call => call.Options.FirstTokenTimeout, // the deployment's own clock, if it has one
                    null => settings.FirstTokenTimeout,
                }),
        });
        return builder.Build();
    }

    private ResiliencePipeline BuildStreamStart(string provider)
    {
        var settings = options.Get(provider);
        var builder = new ResiliencePipelineBuilder { TimeProvider = timeProvider };
        if (settings.MaxRetries > 0)
        {
            builder.AddRetry((RetryStrategyOptions)WithBackoff<object>(settings, new RetryStrategyOptions
            {
                ShouldHandle = args => ValueTask.FromResult(
                    args.Outcome.Exception is UpstreamException upstream
                    && FailureClassifier.IsRetryable(upstream)
                    && CallOf(args.Context)?.CanRetry != false),
                DelayGenerator = async args =>
                {
                    // A stream that failed past its headers counts against the provider first: it may isolate it, which
                    // decides whether this retry is refused.
                    if (CallOf(args.Context) is { StreamOpened: true })
                    {
                        await StreamHealthOf(provider).FailedAfterHeadersAsync().ConfigureAwait(false);
                    }

                    TimeSpan? asked = args.Outcome.Exception is UpstreamException { RetryAfter: { } after } ? Min(after, settings.MaxDelay) : null;
                    return DelayUnlessRefused(args.Context, provider, settings, asked, args.AttemptNumber);
                },
                OnRetry = args =>
                {
                    if (!args.Context.Properties.GetValue(RefusedKey, false))
                    {
                        CallOf(args.Context)?.Retrying(args.RetryDelay, FailureClassifier.Describe((UpstreamException)args.Outcome.Exception!));
                    }

                    return ValueTask.CompletedTask;
                },
            }));
        }

        return builder.Build();
    }

    /// <summary>Both levels back off alike: exponentially from BaseDelay, with jitter, never past MaxDelay.</summary>
    private static RetryStrategyOptions<TResult> WithBackoff<TResult>(ResilienceOptions settings, RetryStrategyOptions<TResult> options)
    {
        options.MaxRetryAttempts = settings.MaxRetries;
        options.BackoffType = DelayBackoffType.Exponential;
        options.UseJitter = true;
        options.Delay = settings.BaseDelay;
        options.MaxDelay = settings.MaxDelay;
        return options;
    }

    /// <summary>
    /// Whether the provider's breaker refuses calls now, the failure just seen having opened it, say. The retry still
    /// runs, at once, to be refused unsent (the refusal is what falls back, or tells the caller when to come back),
    /// but is not announced: no <c>node.retrying</c>, retry metric or log line for an attempt no upstream sees.
    /// </summary>
    /// <param name="provider">The provider retried.</param>
    /// <param name="delay">When the retry would be sent: a retry that waits past the break is the half-open probe, and goes.</param>
    private bool Refuses(string provider, TimeSpan delay) =>
        _circuits.TryGetValue(provider, out var circuit) && circuit.CircuitState switch
        {
            // Isolated by StreamStartHealth (until a routed call finds its time up), or a half-open probe already out.
            CircuitState.Isolated or CircuitState.HalfOpen => true,
            // Polly moves an open circuit on to half-open only as a call arrives after its break: that call is let through.
            CircuitState.Open => _openUntil.TryGetValue(provider, out var until) && timeProvider.GetUtcNow() + delay < until,
            _ => false,
        };

    /// <summary>
    /// The retry's delay: none when it will be refused (made at once, to fall back), else the one the upstream asked for
    /// (null: Polly's backoff). Decided once for its delay and its announcement alike (<see cref="RefusedKey"/>).
    /// </summary>
    private TimeSpan? DelayUnlessRefused(ResilienceContext context, string provider, ResilienceOptions settings, TimeSpan? asked, int attemptNumber)
    {
        var refused = Refuses(provider, asked ?? Backoff(settings, attemptNumber));
        context.Properties.Set(RefusedKey, refused);
        return refused ? TimeSpan.Zero : asked;
    }

    /// <summary>
    /// The backoff a retry without a <c>Retry-After</c> waits, as <see cref="WithBackoff{TResult}"/> sets it, before
    /// Polly's jitter: only to judge whether it falls after a break.
    /// </summary>
    private static TimeSpan Backoff(ResilienceOptions settings, int attemptNumber) =>
        Min(settings.MaxDelay, settings.BaseDelay * Math.Pow(2, Math.Min(attemptNumber, 30)));

    private static UpstreamCall? CallOf(ResilienceContext context) =>
        context.Properties.TryGetValue(CallKey, out var call) ? call : null;

    /// <summary>
    /// The upstream's <c>retry-after-ms</c> or <c>Retry-After</c>, capped by <c>MaxDelayMs</c>.
    /// </summary>
    private TimeSpan? RetryAfterDelay(HttpResponseMessage? response, ResilienceOptions settings) =>
        response is not null && RetryAfterHeader.Of(response.Headers, timeProvider.GetUtcNow()) is { } wait
            ? Min(wait, settings.MaxDelay)
            : null;

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;
}
