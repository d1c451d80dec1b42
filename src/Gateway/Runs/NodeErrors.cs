using Gateway.Providers;
using Gateway.Security;

namespace Gateway.Runs;

/// <summary>What a <c>node.failed</c> event says about an upstream failure, in the codes the /v1 errors use.</summary>
internal static class NodeErrors
{
    public const string Internal = "internal_error";

    /// <summary>The <see cref="UpstreamException.Reason"/> of a node refused because its key's token budget is used up.</summary>
    public const string TokenLimitReason = "token limit";

    /// <summary>
    /// The code <c>/v1</c> gives the same failure (<see cref="UpstreamErrorCodes"/>), except where <c>/v1</c> passes the
    /// upstream's verdict on the request on: a node names that <see cref="UpstreamErrorCodes.Rejected"/>.
    /// </summary>
    public static NodeError FromUpstream(UpstreamException exception, string alias) => new(
        exception.Reason == TokenLimitReason ? RequestRateLimiting.LimitExceededCode : UpstreamErrorCodes.Of(exception),
        $"Model '{alias}' failed: {exception.Message}");

    public static NodeError InternalError() => new(Internal, "The gateway failed to run this node.");
}
