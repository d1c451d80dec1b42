using Gateway.Providers;
using Gateway.Providers.Tools;
using Microsoft.Extensions.AI;

namespace Gateway.Security;

/// <summary>
/// How much the model reads (or wrote) of a conversation, in characters, for the token estimates (<see cref="TokenEstimate"/>)
/// made before (or without) the provider's count: each message's text, thinking and refusal, the calls an assistant
/// turn made (their functions' names and arguments), and the functions offered (name, description, parameters' schema), which providers
/// count in the prompt too. An image counts the characters of its fixed estimate (<see cref="ImagePart.EstimatedTokens"/>),
/// never its URL's. Indexed loops: this runs for every request, and an enumerator would be allocated per message.
/// </summary>
internal static class PromptText
{
    public static long Characters(IReadOnlyList<ChatMessage> messages, ChatOptions? options = null)
    {
        long characters = 0;
        for (var m = 0; m < messages.Count; m++)
        {
            var message = messages[m];
            characters += message.Text.Length;
            var contents = message.Contents;
            for (var c = 0; c < contents.Count; c++)
            {
                characters += contents[c] switch
                {
                    RawToolCall call => (call.Name?.Length ?? 0) + (call.Arguments?.Length ?? 0),
                    RefusalContent refusal => refusal.Text.Length,
                    TextReasoningContent thinking => thinking.Text.Length,
                    ImagePart image => (long)image.EstimatedTokens * TokenEstimate.CharactersPerToken,
                    _ => 0,
                };
            }
        }

        if (options?.Tools is { } tools)
        {
            for (var t = 0; t < tools.Count; t++)
            {
                if (tools[t] is FunctionTool function)
                {
                    characters += function.Name.Length + function.Description.Length + (function.Parameters?.GetRawText().Length ?? 0);
                }
            }
        }

        return characters;
    }
}
