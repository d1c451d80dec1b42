namespace Gateway.Chat;

internal static partial class ChatLog
{
    [LoggerMessage(Level = LogLevel.Warning, Message = "Request for model {Model} failed before streaming: {Status} {Reason}")]
    public static partial void FailedBeforeStreaming(ILogger logger, string model, int status, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Stream for model {Model} failed after it started: {Reason}")]
    public static partial void FailedWhileStreaming(ILogger logger, string model, string reason);
}
