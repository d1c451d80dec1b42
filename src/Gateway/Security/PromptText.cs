using Gateway.Providers.Tools;
using Microsoft.Extensions.AI;

namespace Gateway.Security;

/// <summary>
/// What the model reads of a conversation, as text, for the token estimates (<see cref="TokenEstimate"/>) made before (or without) the provider's
/// count: each message's text, the calls an assistant turn made (their functions' names and arguments), and the
/// functions offered (name, description, parameters' schema), which providers count in the prompt too.
/// </summary>
internal static class PromptText
{
    public static IEnumerable<string> Of(IEnumerable<ChatMessage> messages, ChatOptions? options = null)
    {
        foreach (var message in messages)
        {
            yield return message.Text;
            foreach (var content in message.Contents)
            {
                if (content is RawToolCall call)
                {
                    yield return call.Name ?? "";
                    yield return call.Arguments ?? "";
                }
            }
        }

        foreach (var tool in options?.Tools ?? [])
        {
            if (tool is FunctionTool function)
            {
                yield return function.Name;
                yield return function.Description;
                yield return function.Parameters?.GetRawText() ?? "";
            }
        }
    }
}
