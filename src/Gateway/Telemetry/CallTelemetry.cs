using Gateway.Providers;
using Gateway.Security;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Options;

namespace Gateway.Telemetry;

/// <summary>Starts the record of one model call, which ends in its metrics and its one summary log line.</summary>
internal sealed class CallTelemetry(
    GatewayMetrics metrics, IOptions<TelemetryOptions> options, TimeProvider timeProvider, ILogger<CallTelemetry> logger)
{
    public GatewayMetrics Metrics => metrics;

    /// <param name="surface">Where the call came in (<see cref="Surfaces"/>).</param>
    /// <param name="key">The name of the caller's API key, for the summary line (never the key).</param>
    /// <param name="route">The alias called.</param>
    /// <param name="trace">Its attempts.</param>
    /// <param name="messages">The prompt, for the content line when that is on.</param>
    public CallRecorder Begin(string surface, string key, ModelRoute route, RouteTrace trace, IReadOnlyList<ChatMessage> messages) =>
        new(this, surface, key, route, trace, messages, timeProvider.GetTimestamp());

    internal bool LogContent => options.Value.LogContent;

    internal TimeSpan Since(long timestamp) => timeProvider.GetElapsedTime(timestamp);

    internal void Write(in ModelCallRecord call, CallRecorder recorder, string? completion)
    {
        metrics.ModelCallCompleted(call);
        TelemetryLog.CallCompleted(logger, call.Surface, call.Model, call.Provider, recorder.Key, call.Outcome, call.Attempts,
            call.TimeToFirstToken?.TotalMilliseconds, call.InputTokens, call.OutputTokens, call.CostUsd,
            call.Duration.TotalMilliseconds, call.ErrorType ?? "");
        if (LogContent)
        {
            var promptText = recorder.Prompt();
            TelemetryLog.CallContent(logger, call.Surface, call.Model, promptText, completion ?? "");
        }
    }
}

/// <summary>
/// One model call under way. The first of <see cref="Succeeded"/>, <see cref="Failed"/> or <see cref="Cancelled"/>
/// ends it; later calls are ignored, so a <c>finally</c> may end it defensively.
/// </summary>
internal sealed class CallRecorder(
    CallTelemetry telemetry, string surface, string key, ModelRoute route, RouteTrace trace, IReadOnlyList<ChatMessage> messages, long startedAt)
{
    /// <summary>The name of the caller's API key.</summary>
    public string Key => key;

    private TimeSpan? _timeToFirstToken;
    private bool _ended;

    /// <summary>True when the completion text should be kept for the content log line.</summary>
    public bool CapturesContent => telemetry.LogContent;

    public void FirstToken() => _timeToFirstToken ??= telemetry.Since(startedAt);

    public void Succeeded(UsageDetails? usage, string? completion) =>
        End(Outcomes.Success, null, usage, completion);

    /// <param name="outcome">One of <see cref="Outcomes"/>.</param>
    /// <param name="errorType">The gateway's code for the failure.</param>
    /// <param name="textChunks">Chunks of text the stream had brought before it broke (see <see cref="SeenUsage"/>).</param>
    public void Failed(string outcome, string errorType, long textChunks = 0) => End(outcome, errorType, SeenUsage(textChunks), null);

    /// <param name="textChunks">Chunks of text the stream had brought before its caller left.</param>
    public void Cancelled(long textChunks = 0) => End(Outcomes.Cancelled, "cancelled", SeenUsage(textChunks), null);

    /// <summary>
    /// A stream cut off after its first token never hears the provider's count, yet the provider bills what it
    /// generated: it counts what it was seen to spend, as its key's budget is settled (<c>TokenReservation.SettleCut</c>):
    /// the prompt's estimate and a token per chunk of text. Counting nothing made every "stop generating" free in the
    /// token and cost metrics. A call that brought no text counts nothing.
    /// </summary>
    private UsageDetails? SeenUsage(long textChunks) => textChunks == 0
        ? null
        : new UsageDetails { InputTokenCount = TokenEstimate.Prompt(messages.Select(message => message.Text)), OutputTokenCount = textChunks };

    private void End(string outcome, string? errorType, UsageDetails? usage, string? completion)
    {
        if (_ended)
        {
            return;
        }

        _ended = true;
        var input = usage?.InputTokenCount ?? 0;
        var output = usage?.OutputTokenCount ?? 0;
        var call = new ModelCallRecord(
            surface,
            route.Alias,
            trace.Deployment?.Provider ?? "",
            outcome,
            errorType,
            trace.Attempts,
            telemetry.Since(startedAt),
            _timeToFirstToken,
            input,
            output,
            route.Pricing?.CostUsd(input, output) ?? 0);
        telemetry.Write(call, this, completion);
    }

    internal string Prompt() => string.Join("\n", messages.Select(m => $"{m.Role}: {m.Text}"));
}
