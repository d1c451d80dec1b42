using Microsoft.Extensions.AI;

namespace Gateway.Providers.OpenAI;

internal static class UsageCounts
{
    /// <summary>
    /// The usage an upstream reported, or null when it counts nothing: <c>"usage": {}</c> or all zeros, which some
    /// servers send for counts they do not keep. Taken at its word, every such call was free to its caller's token
    /// budget and in the metrics; as no usage, it is counted as the gateway saw it, as for a server that sends none.
    /// A real call is never all zeros: a prompt is at least a token.
    /// </summary>
    /// <remarks>
    /// A negative count is no count either: taken at its word, a broken or hostile upstream's <c>-100000</c> refilled the
    /// caller's token budget, and went back to the caller as a negative total.
    /// </remarks>
    public static UsageDetails? Reported(UsageDetails usage) =>
        (usage.InputTokenCount is null or 0 && usage.OutputTokenCount is null or 0 && usage.TotalTokenCount is null or 0)
        || usage.InputTokenCount < 0 || usage.OutputTokenCount < 0 || usage.TotalTokenCount < 0
        || usage.CachedInputTokenCount < 0 || usage.ReasoningTokenCount < 0
            ? null
            : usage;
}
