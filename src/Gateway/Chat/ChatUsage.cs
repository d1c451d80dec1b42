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
            TotalTokens = usage?.TotalTokenCount ?? input + output,
            // Passed on as the provider gave them: what a caller reconciles its bill with.
            PromptTokensDetails = usage?.CachedInputTokenCount is { } cached ? new PromptTokensDetails(cached) : null,
            CompletionTokensDetails = usage?.ReasoningTokenCount is { } reasoning ? new CompletionTokensDetails(reasoning) : null,
        };
    }
}
