using Microsoft.Extensions.AI;

namespace Gateway.Chat;

internal static class ChatUsage
{
    public static CompletionUsage From(UsageDetails? usage)
    {
        var input = usage?.InputTokenCount ?? 0;
        var output = usage?.OutputTokenCount ?? 0;
        return new CompletionUsage
        {
            PromptTokens = input,
            CompletionTokens = output,
            // Saturated: an upstream's absurd counts (2^63 - 1 each) summed to -2, which the key's token budget was settled with.
            TotalTokens = usage?.TotalTokenCount ?? (input > long.MaxValue - output ? long.MaxValue : input + output),
            // Passed on as the provider gave them: what a caller reconciles its bill with. A zero is left out, as one not
            // given is: the SDK reads an absent count in a details object as 0, so a streamed and an unstreamed answer of
            // the same upstream would otherwise differ in shape.
            PromptTokensDetails = usage?.CachedInputTokenCount is long cached and > 0 ? new PromptTokensDetails(cached) : null,
            CompletionTokensDetails = usage?.ReasoningTokenCount is long reasoning and > 0 ? new CompletionTokensDetails(reasoning) : null,
        };
    }
}
