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
        };
    }
}
