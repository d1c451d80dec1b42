using System.Diagnostics;
using System.Diagnostics.Metrics;
using Gateway.Resilience;
using Polly.CircuitBreaker;

namespace Gateway.Telemetry;

/// <summary>
/// The gateway's one <see cref="Meter"/> and what is recorded on it. GenAI instruments follow the OpenTelemetry
/// semantic conventions; the <c>gateway.*</c> ones are ours. Everything is recorded once per call, never per token,
/// so the streaming hot path stays free of measurements and allocations.
/// </summary>
internal sealed class GatewayMetrics
{
    public const string MeterName = "Gateway";

    private readonly Histogram<long> _tokenUsage;
    private readonly Histogram<double> _operationDuration;
    private readonly Histogram<double> _timeToFirstToken;
    private readonly Histogram<double> _timePerOutputToken;
    private readonly Counter<long> _requests;
    private readonly Counter<long> _retries;
    private readonly Counter<long> _fallbacks;
    private readonly Counter<double> _cost;
    private readonly UpDownCounter<long> _openStreams;
    private readonly Counter<long> _runs;
    private readonly UpDownCounter<long> _runWatchers;

    // What is under way, readable here: the shutdown drain says what it waits for.
    private int _openV1Calls;
    private int _openRunStreams;

    public GatewayMetrics(IMeterFactory meterFactory, ProviderPipelines pipelines)
    {
        Meter = meterFactory.Create(MeterName);
        _tokenUsage = Meter.CreateHistogram("gen_ai.client.token.usage", "{token}",
            "Tokens used per model call, by token type.", advice: Buckets<long>(
                1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864));
        _operationDuration = Meter.CreateHistogram("gen_ai.client.operation.duration", "s",
            "Duration of model calls, to the last byte.", advice: Buckets(
                0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92));
        _timeToFirstToken = Meter.CreateHistogram("gen_ai.server.time_to_first_token", "s",
            "Time from the request to its first token, for calls that produced one.", advice: Buckets(
                0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0));
        _timePerOutputToken = Meter.CreateHistogram("gen_ai.server.time_per_output_token", "s",
            "Time per output token after the first, for successful calls.", advice: Buckets(
                0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 2.5));
        _requests = Meter.CreateCounter<long>("gateway.requests", "{request}",
            "Model calls by surface (v1, runs), model alias, provider that answered last and outcome.");
        _retries = Meter.CreateCounter<long>("gateway.retries", "{retry}",
            "Retries of the same deployment, by model alias, provider and reason.");
        _fallbacks = Meter.CreateCounter<long>("gateway.fallbacks", "{fallback}",
            "Fallbacks to an alias's next deployment, by model alias, the provider that failed and reason.");
        _cost = Meter.CreateCounter<double>("gateway.usage.cost", "USD",
            "Cost of the tokens used, from the configured per-model prices.");
        _openStreams = Meter.CreateUpDownCounter<long>("gateway.streams.open", "{stream}",
            "Event streams being written to clients, by surface.");
        _runs = Meter.CreateCounter<long>("gateway.runs", "{run}", "Flow runs that ended, by final status.");
        _runWatchers = Meter.CreateUpDownCounter<long>("gateway.run.watchers", "{watcher}",
            "Clients following a run's event stream.");
        Meter.CreateObservableGauge("gateway.circuit_breaker.state", () => ObserveCircuits(pipelines), "{state}",
            "1 for the state each provider's circuit breaker is in (closed, open, half_open, isolated), 0 for the others.");

        // What every Prometheus client library exports of its process: a dashboard's CPU and memory panels, and a
        // restart seen as the start time moving.
        using var process = System.Diagnostics.Process.GetCurrentProcess();
        var started = new DateTimeOffset(process.StartTime).ToUnixTimeMilliseconds() / 1000.0;
        Meter.CreateObservableCounter("process.cpu.time", static () => Environment.CpuUsage.TotalTime.TotalSeconds, "s",
            "CPU time the gateway's process has used, user and system.");
        Meter.CreateObservableGauge("process.memory.usage", static () => Environment.WorkingSet, "By", "The gateway process's resident memory.");
        Meter.CreateObservableGauge("process.start_time", () => started, "s", "When the gateway's process started, in seconds since the Unix epoch.");
    }

    public Meter Meter { get; }

    /// <summary>Records one finished model call: the request count, its duration, tokens, time to first token and cost.</summary>
    public void ModelCallCompleted(in ModelCallRecord call)
    {
        var model = new KeyValuePair<string, object?>(Tags.RequestModel, call.Model);
        var provider = new KeyValuePair<string, object?>(Tags.ProviderName, call.Provider);
        var operation = new KeyValuePair<string, object?>(Tags.OperationName, "chat");

        _requests.Add(1,
            new KeyValuePair<string, object?>(Tags.Surface, call.Surface), model, provider,
            new KeyValuePair<string, object?>(Tags.Outcome, call.Outcome));

        var duration = new TagList { operation, model, provider };
        if (call.ErrorType is not null)
        {
            duration.Add(Tags.ErrorType, call.ErrorType);
        }

        _operationDuration.Record(call.Duration.TotalSeconds, duration);
        if (call.TimeToFirstToken is { } ttft)
        {
            _timeToFirstToken.Record(ttft.TotalSeconds, operation, model, provider);
            if (call.ErrorType is null && call.OutputTokens > 1)
            {
                _timePerOutputToken.Record((call.Duration - ttft).TotalSeconds / (call.OutputTokens - 1), operation, model, provider);
            }
        }

        if (call.InputTokens > 0 || call.OutputTokens > 0)
        {
            _tokenUsage.Record(call.InputTokens, operation, model, provider, new KeyValuePair<string, object?>(Tags.TokenType, "input"));
            _tokenUsage.Record(call.OutputTokens, operation, model, provider, new KeyValuePair<string, object?>(Tags.TokenType, "output"));
        }

        if (call.CostUsd > 0)
        {
            _cost.Add(call.CostUsd, model, provider);
        }
    }

    public void Retrying(string model, string provider, string reason) =>
        _retries.Add(1, new(Tags.RequestModel, model), new(Tags.ProviderName, provider), new(Tags.Reason, reason));

    public void FallingBack(string model, string fromProvider, string reason) =>
        _fallbacks.Add(1, new(Tags.RequestModel, model), new(Tags.ProviderName, fromProvider), new(Tags.Reason, reason));

    public void StreamOpened(string surface)
    {
        if (surface == Surfaces.Runs)
        {
            Interlocked.Increment(ref _openRunStreams);
        }

        _openStreams.Add(1, new KeyValuePair<string, object?>(Tags.Surface, surface));
    }

    public void StreamClosed(string surface)
    {
        if (surface == Surfaces.Runs)
        {
            Interlocked.Decrement(ref _openRunStreams);
        }

        _openStreams.Add(-1, new KeyValuePair<string, object?>(Tags.Surface, surface));
    }

    /// <summary>A model call began (<see cref="CallTelemetry.Begin"/>); it is counted out when its record ends.</summary>
    public void CallStarted(string surface)
    {
        if (surface == Surfaces.V1)
        {
            Interlocked.Increment(ref _openV1Calls);
        }
    }

    public void CallEnded(string surface)
    {
        if (surface == Surfaces.V1)
        {
            Interlocked.Decrement(ref _openV1Calls);
        }
    }

    /// <summary>The <c>/v1</c> calls under way: streamed or not, before their first token or after it.</summary>
    public int OpenV1Calls => Volatile.Read(ref _openV1Calls);

    /// <summary>The run event streams being written to clients.</summary>
    public int OpenRunStreams => Volatile.Read(ref _openRunStreams);

    /// <summary>A run reached its final status: <c>completed</c>, <c>failed</c>, <c>cancelled</c> or <c>interrupted</c>.</summary>
    public void RunEnded(string status) => _runs.Add(1, new KeyValuePair<string, object?>(Tags.RunStatus, status));

    public void RunWatcherAttached() => _runWatchers.Add(1);

    public void RunWatcherDetached() => _runWatchers.Add(-1);

    private static IEnumerable<Measurement<int>> ObserveCircuits(ProviderPipelines pipelines)
    {
        foreach (var (provider, state) in pipelines.CircuitStates)
        {
            foreach (var candidate in CircuitStateNames)
            {
                yield return new Measurement<int>(candidate.State == state ? 1 : 0,
                    new(Tags.ProviderName, provider), new(Tags.CircuitState, candidate.Name));
            }
        }
    }

    private static readonly (CircuitState State, string Name)[] CircuitStateNames =
    [
        (CircuitState.Closed, "closed"), (CircuitState.Open, "open"), (CircuitState.HalfOpen, "half_open"), (CircuitState.Isolated, "isolated"),
    ];

    private static InstrumentAdvice<T> Buckets<T>(params T[] boundaries) where T : struct =>
        new() { HistogramBucketBoundaries = boundaries };

    private static InstrumentAdvice<double> Buckets(params double[] boundaries) => Buckets<double>(boundaries);

    /// <summary>Attribute names: the GenAI semantic conventions' where they exist, <c>gateway.*</c> otherwise.</summary>
    public static class Tags
    {
        public const string OperationName = "gen_ai.operation.name";
        public const string RequestModel = "gen_ai.request.model";
        public const string ProviderName = "gen_ai.provider.name";
        public const string TokenType = "gen_ai.token.type";
        public const string ErrorType = "error.type";
        public const string Surface = "gateway.surface";
        public const string Outcome = "gateway.outcome";
        public const string Reason = "gateway.reason";
        public const string RunStatus = "gateway.run.status";
        public const string CircuitState = "gateway.circuit.state";
    }
}
