namespace Gateway.Security;

internal static partial class SecurityLog
{
    [LoggerMessage(Level = LogLevel.Warning, Message = "Settling a token reservation in bucket {Bucket} failed; the estimate stays charged")]
    public static partial void SettleFailed(ILogger logger, Exception exception, string bucket);
}
