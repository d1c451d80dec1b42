namespace Gateway.Telemetry;

internal static partial class TelemetryLog
{
    /// <summary>The one summary line of a model call. Never carries content: see <see cref="CallContent"/>.</summary>
    [LoggerMessage(EventId = 900, Level = LogLevel.Information,
        Message = "{Surface} {Model} via {Provider} for key {Key}: {Outcome} after {Attempts} attempt(s), TTFT {TtftMs} ms, {InputTokens}+{OutputTokens} tokens, {CostUsd} USD, {DurationMs} ms, upstream request {UpstreamRequestId} {ErrorType}")]
    public static partial void CallCompleted(
        ILogger logger, string surface, string model, string provider, string key, string outcome, int attempts,
        double ttftMs, long inputTokens, long outputTokens, double costUsd, double durationMs, string upstreamRequestId, string errorType);

    /// <summary>
    /// The summary line of a call that brought no first token (non-streamed, or failed before one): the same event,
    /// without a time to first token, which would print as "TTFT  ms". It lives in a class of its own because the
    /// generator refuses one event id on two methods of one class.
    /// </summary>
    internal static partial class WithoutFirstToken
    {
        [LoggerMessage(EventId = 900, Level = LogLevel.Information,
            Message = "{Surface} {Model} via {Provider} for key {Key}: {Outcome} after {Attempts} attempt(s), {InputTokens}+{OutputTokens} tokens, {CostUsd} USD, {DurationMs} ms, upstream request {UpstreamRequestId} {ErrorType}")]
        public static partial void CallCompleted(
            ILogger logger, string surface, string model, string provider, string key, string outcome, int attempts,
            long inputTokens, long outputTokens, double costUsd, double durationMs, string upstreamRequestId, string errorType);
    }

    /// <summary>Only with <c>Gateway:Telemetry:LogContent</c> on.</summary>
    [LoggerMessage(EventId = 901, Level = LogLevel.Information, Message = "{Surface} {Model} content: prompt {Prompt} completion {Completion}")]
    public static partial void CallContent(ILogger logger, string surface, string model, string prompt, string completion);
}
