using Microsoft.Extensions.AI;

namespace Gateway.Providers.Tools;

/// <summary>
/// A <c>tool</c> message: what the caller's function returned, as its text, for the call it names. The call's id is
/// kept in the message's <see cref="ChatMessage.AdditionalProperties"/>, so that the message's text stays its text for
/// everything that reads it (token estimates, logs, the simulated models).
/// </summary>
internal static class ToolResults
{
    private const string CallIdKey = "tool_call_id";

    public static ChatMessage Message(string callId, string text) =>
        new(ChatRole.Tool, text) { AdditionalProperties = new() { [CallIdKey] = callId } };

    /// <summary>The id of the call a <c>tool</c> message answers, or null for any other message.</summary>
    public static string? CallId(ChatMessage message) =>
        message.AdditionalProperties?.TryGetValue(CallIdKey, out var id) == true ? id as string : null;
}
