using Gateway.Providers;
using Gateway.Providers.Tools;
using Microsoft.Extensions.AI;

namespace Gateway.Chat;

/// <summary>An answer's message as OpenAI writes it: its text, its calls to the caller's functions, its refusal.</summary>
internal static class CompletionMessages
{
    public static CompletionMessage Message(ChatResponse response)
    {
        List<WireToolCall>? calls = null;
        foreach (var message in response.Messages)
        {
            foreach (var content in message.Contents)
            {
                if (content is RawToolCall call)
                {
                    (calls ??= []).Add(new WireToolCall
                    {
                        Id = call.CallId,
                        Type = "function",
                        Function = new WireFunctionCall { Name = call.Name, Arguments = call.Arguments ?? "" },
                    });
                }
            }
        }

        var refusal = string.Concat(response.Messages.SelectMany(message => message.Contents.OfType<RefusalContent>()).Select(part => part.Text));

        // As OpenAI: a turn that only calls functions, or refuses, has no text, and says so with null.
        var text = response.Text;
        return new CompletionMessage
        {
            Content = (calls is not null || refusal.Length > 0) && text.Length == 0 ? null : text,
            ToolCalls = calls,
            Refusal = refusal.Length > 0 ? refusal : null,
            ReasoningContent = Thinking(response) is { Length: > 0 } thinking ? thinking : null,
        };
    }

    private static string Thinking(ChatResponse response)
    {
        foreach (var message in response.Messages)
        {
            if (UpdateContents.Reasoning(message.Contents) is { Length: > 0 } thinking)
            {
                return thinking;
            }
        }

        return "";
    }

    /// <summary>
    /// The answer's finish reason, as OpenAI gives it: <c>tool_calls</c> for a turn that called functions, where some
    /// servers (llama.cpp, Ollama) say <c>stop</c>, and callers that branch on it would never run the calls.
    /// </summary>
    public static string FinishReason(ChatFinishReason reason, bool calledFunctions) =>
        calledFunctions && reason == ChatFinishReason.Stop ? ChatFinishReason.ToolCalls.Value : reason.Value;
}
