using Gateway.Providers;

namespace Gateway.Runs;

/// <summary>What a <c>node.failed</c> event says about an upstream failure, in the codes the /v1 errors use.</summary>
internal static class NodeErrors
{
    public const string Internal = "internal_error";

    /// <summary>The <see cref="UpstreamException.Reason"/> of a node refused because its key's token budget is used up.</summary>
    public const string TokenLimitReason = "token limit";

    /// <summary>The same code as <c>/v1</c> gives the same failure (<see cref="UpstreamErrorCodes"/>).</summary>
    public static NodeError FromUpstream(UpstreamException exception, string alias) => new(
        exception.Reason == TokenLimitReason ? "rate_limit_exceeded" : UpstreamErrorCodes.Of(exception),
        $"Model '{alias}' failed: {exception.Message}");

    public static NodeError InternalError() => new(Internal, "The gateway failed to run this node.");
}
