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
    /// A count below 0 or above <see cref="MostTokens"/> is no count either. Taken at its word, a broken or hostile
    /// upstream's <c>-100000</c> refilled the caller's token budget and went back to the caller as a negative total; its
    /// 2^63 - 1 summed past <c>long</c> (a negative total again), or put the key's budget so deep in debt that every later
    /// call of the key failed.
    /// </remarks>
    public static UsageDetails? Reported(UsageDetails usage) =>
        (usage.InputTokenCount is null or 0 && usage.OutputTokenCount is null or 0 && usage.TotalTokenCount is null or 0)
        || !Plausible(usage.InputTokenCount) || !Plausible(usage.OutputTokenCount) || !Plausible(usage.TotalTokenCount)
        || !Plausible(usage.CachedInputTokenCount) || !Plausible(usage.ReasoningTokenCount)
            ? null
            : usage;

    /// <summary>More tokens than any model reads or writes in one call, by orders of magnitude; sums of a few stay far inside <c>long</c>.</summary>
    public const long MostTokens = int.MaxValue;

    private static bool Plausible(long? count) => count is null or (>= 0 and <= MostTokens);
}
