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
            // Passed on as the provider gave them, zeros included (OpenAI sends both, with 0s): what a caller reconciles
            // its bill with, and what code written against OpenAI reads without a check (usage.prompt_tokens_details
            // .cached_tokens threw on an answer whose counts were 0, left out until 2026-12-06). Absent where the
            // provider sent none, as from a local server, or the gateway counted the usage itself.
            PromptTokensDetails = usage?.CachedInputTokenCount is long cached ? new PromptTokensDetails(cached) : null,
            CompletionTokensDetails = usage?.ReasoningTokenCount is long reasoning ? new CompletionTokensDetails(reasoning) : null,
        };
    }
}
