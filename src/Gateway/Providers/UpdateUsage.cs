using Microsoft.Extensions.AI;

namespace Gateway.Providers;

/// <summary>The token usage a streamed update carries: OpenAI-compatible servers send it on a chunk of its own.</summary>
internal static class UpdateUsage
{
    /// <summary>The update's usage, or null; indexed, as an interface enumerator would allocate for every token.</summary>
    public static UsageDetails? Of(ChatResponseUpdate update)
    {
        UsageDetails? usage = null;
        var contents = update.Contents;
        for (var i = 0; i < contents.Count; i++)
        {
            if (contents[i] is UsageContent usageContent)
            {
                usage = usageContent.Details;
            }
        }

        return usage;
    }
}
