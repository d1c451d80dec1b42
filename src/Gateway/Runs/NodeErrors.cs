using System.Net;
using Gateway.Providers;

namespace Gateway.Runs;

/// <summary>What a <c>node.failed</c> event says about an upstream failure, in the codes the /v1 errors use.</summary>
internal static class NodeErrors
{
    public const string Internal = "internal_error";

    /// <summary>The <see cref="UpstreamException.Reason"/> of a node refused because its key's token budget is used up.</summary>
    public const string TokenLimitReason = "token limit";

    public static NodeError FromUpstream(UpstreamException exception, string alias)
    {
        var code = exception switch
        {
            { Reason: TokenLimitReason } => "rate_limit_exceeded",
            { Failure: UpstreamFailure.Timeout } => "upstream_timeout",
            { Status: HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden } => "upstream_auth_failed",
            { Status: HttpStatusCode.TooManyRequests } => "upstream_rate_limited",
            { Status: HttpStatusCode.RequestTimeout } => "upstream_timeout",
            { Status: { } status } when (int)status is >= 400 and < 500 => "upstream_rejected",
            _ => "upstream_error",
        };
        return new NodeError(code, $"Model '{alias}' failed: {exception.Message}");
    }

    public static NodeError InternalError() => new(Internal, "The gateway failed to run this node.");
}
