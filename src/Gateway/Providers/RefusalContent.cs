using Microsoft.Extensions.AI;

namespace Gateway.Providers;

/// <summary>
/// A model's refusal (OpenAI's <c>refusal</c>, streamed as <c>delta.refusal</c>): with Structured Outputs, what it
/// writes instead of the JSON it was asked for. The abstraction has no member for it, and dropped, a refusal reads as
/// an empty answer.
/// </summary>
internal sealed class RefusalContent(string text) : AIContent
{
    public string Text => text;

    /// <summary>The refusal text among <paramref name="contents"/>, or ""; indexed, as this runs once per streamed chunk.</summary>
    public static string Of(IList<AIContent> contents)
    {
        for (var i = 0; i < contents.Count; i++)
        {
            if (contents[i] is RefusalContent refusal)
            {
                return refusal.Text;
            }
        }

        return "";
    }
}
