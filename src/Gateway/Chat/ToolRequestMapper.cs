using System.Text.Json;
using Gateway.Providers.Tools;
using Microsoft.Extensions.AI;

namespace Gateway.Chat;

/// <summary>A request's tools, tool choice and tool turns (checked by <see cref="ToolRequestRules"/>), as the abstraction's.</summary>
internal static class ToolRequestMapper
{
    /// <summary>The request's functions, for <see cref="ChatOptions.Tools"/>; null when it offers none.</summary>
    public static List<AITool>? Tools(ChatCompletionRequest request) =>
        request.Tools is { Count: > 0 } tools
            ? tools.ConvertAll(AITool (tool) => new FunctionTool(
                tool.Function!.Name!,
                tool.Function.Description,
                tool.Function.Parameters is { ValueKind: JsonValueKind.Object } schema ? schema : null,
                tool.Function.Strict))
            : null;

    /// <summary>The request's <c>tool_choice</c> (checked by <see cref="ToolRequestRules.Validate"/>), or null when it names none.</summary>
    public static ChatToolMode? Mode(ChatCompletionRequest request) =>
        request.ToolChoice is not { ValueKind: not JsonValueKind.Null } choice ? null
        : choice.ValueKind == JsonValueKind.String ? choice.GetString() switch
        {
            "none" => ChatToolMode.None,
            "required" => ChatToolMode.RequireAny,
            _ => ChatToolMode.Auto,
        }
        : ChatToolMode.RequireSpecific(ToolRequestRules.NamedFunction(choice)!);

    /// <summary>An assistant turn's calls, as the abstraction's contents (after its text, if it has any).</summary>
    public static void AddCalls(List<AIContent> contents, List<ChatToolCall> calls)
    {
        for (var c = 0; c < calls.Count; c++)
        {
            contents.Add(new RawToolCall(c, calls[c].Id, calls[c].Function!.Name, calls[c].Function!.Arguments));
        }
    }
}
