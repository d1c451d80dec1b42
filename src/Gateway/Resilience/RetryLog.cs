namespace Gateway.Resilience;

internal static partial class RetryLog
{
    [LoggerMessage(Level = LogLevel.Warning,
        Message = "Retrying {Alias} on {Provider}/{Model}: attempt {Attempt} in {DelayMs} ms after {Reason}, upstream request {UpstreamRequestId}")]
    public static partial void Retrying(ILogger logger, string alias, string provider, string model, int attempt, long delayMs, string reason, string upstreamRequestId);

    [LoggerMessage(Level = LogLevel.Warning,
        Message = "Falling back from {FromProvider}/{FromModel} to {Provider}/{Model} for {Alias}: attempt {Attempt} after {Reason}, upstream request {UpstreamRequestId}")]
    public static partial void FallingBack(
        ILogger logger, string alias, string fromProvider, string fromModel, string provider, string model, int attempt, string reason, string upstreamRequestId);

    [LoggerMessage(Level = LogLevel.Warning,
        Message = "{Alias} on {Provider}/{Model} failed after its answer's finish reason, which ends it whole: {Failure}, upstream request {UpstreamRequestId}")]
    public static partial void FailedAfterFinish(ILogger logger, string alias, string provider, string model, string failure, string upstreamRequestId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Circuit for provider {Provider} opened for {BreakMs} ms")]
    public static partial void CircuitOpened(ILogger logger, string provider, long breakMs);

    [LoggerMessage(Level = LogLevel.Information, Message = "Circuit for provider {Provider} closed")]
    public static partial void CircuitClosed(ILogger logger, string provider);
}
