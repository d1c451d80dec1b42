using Microsoft.Extensions.AI;

namespace Gateway.Providers;

/// <summary>
/// What a streamed update carries besides its text: the token usage (OpenAI-compatible servers send it on a chunk of
/// its own) and a reasoning model's thinking.
/// </summary>
internal static class UpdateContents
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

    /// <summary>The reasoning text the update carries (a reasoning model's thinking), or "".</summary>
    public static string Reasoning(ChatResponseUpdate update) => Reasoning(update.Contents);

    /// <summary>The reasoning text among <paramref name="contents"/> (an update's, or an assistant turn's sent back), or "".</summary>
    public static string Reasoning(IList<AIContent> contents)
    {
        for (var i = 0; i < contents.Count; i++)
        {
            if (contents[i] is TextReasoningContent { Text.Length: > 0 } reasoning)
            {
                return reasoning.Text;
            }
        }

        return "";
    }
}
