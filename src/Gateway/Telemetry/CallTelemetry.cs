using Gateway.Providers;
using Gateway.Providers.Tools;
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
    /// <param name="messages">The prompt, for the content line when that is on, and the usage estimated without the provider's count.</param>
    /// <param name="chatOptions">The call's options when it offers functions, which the estimate counts in the prompt.</param>
    public CallRecorder Begin(string surface, string key, ModelRoute route, RouteTrace trace, IReadOnlyList<ChatMessage> messages, ChatOptions? chatOptions = null)
    {
        metrics.CallStarted(surface);
        return new(this, surface, key, route, trace, messages, chatOptions, timeProvider.GetTimestamp());
    }

    internal bool LogContent => options.Value.LogContent;

    internal void Ended(string surface) => metrics.CallEnded(surface);

    internal TimeSpan Since(long timestamp) => timeProvider.GetElapsedTime(timestamp);

    internal void Write(in ModelCallRecord call, CallRecorder recorder, string? completion)
    {
        metrics.ModelCallCompleted(call);
        if (call.TimeToFirstToken is { } timeToFirstToken)
        {
            TelemetryLog.CallCompleted(logger, call.Surface, call.Model, call.Provider, recorder.Key, call.Outcome, call.Attempts,
                timeToFirstToken.TotalMilliseconds, call.InputTokens, call.OutputTokens, call.CostUsd,
                call.Duration.TotalMilliseconds, call.UpstreamRequestId ?? Resilience.UpstreamRequestId.None, call.ErrorType ?? "");
        }
        else
        {
            TelemetryLog.WithoutFirstToken.CallCompleted(logger, call.Surface, call.Model, call.Provider, recorder.Key, call.Outcome,
                call.Attempts, call.InputTokens, call.OutputTokens, call.CostUsd, call.Duration.TotalMilliseconds,
                call.UpstreamRequestId ?? Resilience.UpstreamRequestId.None, call.ErrorType ?? "");
        }

        if (LogContent)
        {
            var (prompt, answer) = (recorder.Prompt(), completion ?? "");
            if (options.Value.LogFormat == TelemetryOptions.TextFormat)
            {
                // A caller's escape sequence or carriage return would rewrite the operator's console; JSON escapes its own.
                (prompt, answer) = (Providers.UpstreamText.Printable(prompt), Providers.UpstreamText.Printable(answer));
            }

            TelemetryLog.CallContent(logger, call.Surface, call.Model, prompt, answer);
        }
    }
}

/// <summary>
/// One model call under way. The first of <see cref="Succeeded"/>, <see cref="Failed"/> or <see cref="Cancelled"/>
/// ends it; later calls are ignored, so a <c>finally</c> may end it defensively.
/// </summary>
internal sealed class CallRecorder(
    CallTelemetry telemetry, string surface, string key, ModelRoute route, RouteTrace trace, IReadOnlyList<ChatMessage> messages, ChatOptions? chatOptions, long startedAt)
{
    /// <summary>The name of the caller's API key.</summary>
    public string Key => key;

    private TimeSpan? _timeToFirstToken;
    private bool _ended;

    /// <summary>True when the completion text should be kept for the content log line.</summary>
    public bool CapturesContent => telemetry.LogContent;

    public void FirstToken() => _timeToFirstToken ??= telemetry.Since(startedAt);

    /// <param name="counted">What the call is counted with (<see cref="Counted"/>), as its caller was shown.</param>
    /// <param name="completion">The text, for the content line.</param>
    public void Succeeded(UsageDetails counted, string? completion) =>
        End(Outcomes.Success, null, counted, 0, completion);

    /// <param name="outcome">One of <see cref="Outcomes"/>.</param>
    /// <param name="errorType">The gateway's code for the failure.</param>
    /// <param name="outputTokens">A token per chunk of text the stream had brought before it broke.</param>
    /// <param name="usage">What the provider reported before it broke, if it did.</param>
    public void Failed(string outcome, string errorType, long outputTokens = 0, UsageDetails? usage = null) =>
        End(outcome, errorType, usage, outputTokens, null);

    /// <param name="outputTokens">A token per chunk of text the stream had brought before its caller left.</param>
    /// <param name="usage">What the provider reported before then, if it did.</param>
    public void Cancelled(long outputTokens = 0, UsageDetails? usage = null) =>
        End(Outcomes.Cancelled, "cancelled", usage, outputTokens, null);

    /// <summary>
    /// The usage a call that ended with an answer is counted with, and shown to its caller: the provider's, or for a
    /// provider that reported none, what the call was seen to spend (<see cref="SeenUsage"/>). Showing nothing, or
    /// zeros, told the caller the answer was free while the key's budget and the metrics counted it.
    /// </summary>
    /// <param name="reported">What the provider reported, if it did.</param>
    /// <param name="outputTokens">The answer's tokens as seen.</param>
    public UsageDetails Counted(UsageDetails? reported, long outputTokens) => WithLost(reported ?? SeenUsage(outputTokens));

    /// <summary>
    /// What attempts that failed while their model thought spent (<see cref="RouteTrace.ThinkingTokensLost"/>): a prompt's
    /// estimate each, and their thinking. Counted on top of the attempt that answered, as the provider bills both.
    /// </summary>
    public long LostTokens => trace.AttemptsLostWhileThinking == 0 ? 0 : (trace.AttemptsLostWhileThinking * PromptEstimate()) + trace.ThinkingTokensLost;

    /// <summary>
    /// What a call whose every attempt brought nothing but thinking, then failed or was left, is counted with: those
    /// attempts' spend alone (<see cref="LostTokens"/>), no prompt beyond theirs.
    /// </summary>
    public UsageDetails LostOnly => WithLost(new UsageDetails());

    private UsageDetails WithLost(UsageDetails usage)
    {
        if (trace.AttemptsLostWhileThinking == 0)
        {
            return usage;
        }

        var input = (usage.InputTokenCount ?? 0) + (trace.AttemptsLostWhileThinking * PromptEstimate());
        var output = (usage.OutputTokenCount ?? 0) + trace.ThinkingTokensLost;
        return new UsageDetails
        {
            InputTokenCount = input,
            OutputTokenCount = output,
            TotalTokenCount = input + output,
            CachedInputTokenCount = usage.CachedInputTokenCount,
            ReasoningTokenCount = usage.ReasoningTokenCount is { } reasoning ? reasoning + trace.ThinkingTokensLost : null,
        };
    }

    private long PromptEstimate() => TokenEstimate.Prompt(PromptText.Characters(messages, chatOptions));

    /// <summary>
    /// A call whose provider reported no usage (a stream cut off after its first token, a server that reports none)
    /// counts what it was seen to spend, as its key's budget is settled (<c>TokenReservation.SettleCut</c>): the
    /// prompt's estimate and the answer's tokens as seen. Counting nothing made every "stop generating" free in the
    /// token and cost metrics.
    /// </summary>
    private UsageDetails SeenUsage(long outputTokens)
    {
        var input = PromptEstimate();
        return new UsageDetails { InputTokenCount = input, OutputTokenCount = outputTokens, TotalTokenCount = input + outputTokens };
    }

    private void End(string outcome, string? errorType, UsageDetails? reported, long outputTokens, string? completion)
    {
        if (_ended)
        {
            return;
        }

        _ended = true;
        telemetry.Ended(surface);
        // A call cut off before it brought any text counts nothing unless its provider said otherwise (or attempts before
        // it thought and failed).
        var usage = reported is not null || outputTokens > 0 ? Counted(reported, outputTokens)
            : trace.AttemptsLostWhileThinking > 0 ? LostOnly
            : null;
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
            route.Pricing?.CostUsd(input, output) ?? 0,
            trace.UpstreamRequestId);
        telemetry.Write(call, this, completion);
    }

    internal string Prompt() => string.Join("\n", messages.Select(ToolCallText.Line));
}
