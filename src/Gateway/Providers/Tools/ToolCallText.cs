using System.Text;
using Microsoft.Extensions.AI;

namespace Gateway.Providers.Tools;

/// <summary>
/// Tool calls and results as text, for the content log (<c>Gateway:Telemetry:LogContent</c>): a turn that only calls
/// functions logged as empty, and a tool message without the call it answers.
/// </summary>
internal static class ToolCallText
{
    /// <summary>Appends the calls among <paramref name="contents"/> (whole, or a stream's pieces) as <c>→ name arguments</c>.</summary>
    public static void Append(StringBuilder text, IList<AIContent> contents)
    {
        for (var i = 0; i < contents.Count; i++)
        {
            if (contents[i] is RawToolCall call)
            {
                if (call.Name is { } name)
                {
                    text.Append(text.Length > 0 ? "\n→ " : "→ ").Append(name).Append(' ');
                }

                text.Append(call.Arguments);
            }
        }
    }

    /// <summary>A whole answer's text (or refusal) and calls.</summary>
    public static string Of(ChatResponse response)
    {
        var text = new StringBuilder(response.Text);
        foreach (var message in response.Messages)
        {
            text.Append(RefusalContent.Of(message.Contents));
            Append(text, message.Contents);
        }

        return text.ToString();
    }

    /// <summary>A prompt message's line: its role, the call a tool message answers, its text, and an assistant turn's calls.</summary>
    public static string Line(ChatMessage message)
    {
        var text = new StringBuilder(message.Role.Value);
        if (ToolResults.CallId(message) is { } callId)
        {
            text.Append(" (").Append(callId).Append(')');
        }

        text.Append(": ");
        AppendText(text, message);
        if (RawToolCall.AnyIn(message.Contents))
        {
            var calls = new StringBuilder();
            Append(calls, message.Contents);
            text.Append(message.Text.Length > 0 ? "\n" : "").Append(calls);
        }

        return text.ToString();
    }

    /// <summary>The message's text; an image in it as <c>[image]</c>, where it is, never its URL (a data URL is the image).</summary>
    private static void AppendText(StringBuilder text, ChatMessage message)
    {
        if (!ImagePart.AnyIn(message.Contents))
        {
            text.Append(message.Text);
            return;
        }

        foreach (var content in message.Contents)
        {
            text.Append(content switch
            {
                TextContent part => part.Text,
                ImagePart => "[image]",
                _ => "",
            });
        }
    }
}
