using Gateway.Providers.Tools;
using Microsoft.Extensions.AI;

namespace Gateway.Chat;

/// <summary>An answer's calls to the caller's functions, as OpenAI writes them.</summary>
internal static class ToolCallWire
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

        // As OpenAI: a turn that only calls functions has no text, and says so with null.
        var text = response.Text;
        return new CompletionMessage { Content = calls is not null && text.Length == 0 ? null : text, ToolCalls = calls };
    }

    /// <summary>
    /// The answer's finish reason, as OpenAI gives it: <c>tool_calls</c> for a turn that called functions, where some
    /// servers (llama.cpp, Ollama) say <c>stop</c>, and callers that branch on it would never run the calls.
    /// </summary>
    public static string FinishReason(ChatFinishReason reason, bool calledFunctions) =>
        calledFunctions && reason == ChatFinishReason.Stop ? ChatFinishReason.ToolCalls.Value : reason.Value;
}
