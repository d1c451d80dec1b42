using Gateway.Flows;
using Gateway.Providers;
using Gateway.Security;

namespace Gateway.Runs;

/// <summary>What a <c>node.failed</c> event says about an upstream failure, in the codes the /v1 errors use.</summary>
internal static class NodeErrors
{
    public const string Internal = "internal_error";

    public const string RenderedTooLargeCode = "rendered_too_large";

    public const string ModelTextTooLargeCode = "model_text_too_large";

    /// <summary>The <see cref="UpstreamException.Reason"/> of a node refused because its key's token budget is used up.</summary>
    public const string TokenLimitReason = "token limit";

    /// <summary>
    /// The code and words <c>/v1</c> give the same failure (<see cref="UpstreamErrorCodes"/>,
    /// <see cref="UpstreamErrorCodes.Describe"/>), except where <c>/v1</c> passes the upstream's verdict on the request on: a
    /// node names that <see cref="UpstreamErrorCodes.Rejected"/>. A call its key's token budget refused never reached a
    /// deployment, so it is the key's limit in <c>/v1</c>'s code, not a rate-limited model.
    /// </summary>
    public static NodeError FromUpstream(UpstreamException exception, string alias) => exception.Reason == TokenLimitReason
        ? new(RequestRateLimiting.LimitExceededCode, $"Model '{alias}' was not called: {exception.Message}")
        : new(UpstreamErrorCodes.Of(exception), UpstreamErrorCodes.Describe(exception, alias));

    public static NodeError InternalError() => new(Internal, "The gateway failed to run this node.");

    /// <summary>A template that would render past the run's budget (<see cref="FlowLimits.MaxRenderedChars"/>).</summary>
    public static NodeError RenderedTooLarge(string nodeId) => new(
        RenderedTooLargeCode,
        $"Node '{nodeId}' would render more text than a run's templates may render in all ({FlowLimits.MaxRenderedChars:N0} characters).");

    /// <summary>An llm node whose user message or output would pass the run's budget (<see cref="FlowLimits.MaxModelTextChars"/>).</summary>
    public static NodeError ModelTextTooLarge(string nodeId) => new(
        ModelTextTooLargeCode,
        $"Node '{nodeId}' would send or receive more text than a run's llm nodes may in all ({FlowLimits.MaxModelTextChars:N0} characters).");
}
