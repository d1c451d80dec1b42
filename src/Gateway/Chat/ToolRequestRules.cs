using System.Text.Json;
using System.Text.RegularExpressions;

namespace Gateway.Chat;

/// <summary>
/// Checks a request's tools, tool choice and tool messages as OpenAI does, and maps them. A mistake is a 400 here,
/// naming the member, rather than an upstream's 400 in other words after the gateway has routed the call, or a
/// simulated model that answers what an upstream would refuse.
/// </summary>
internal static partial class ToolRequestRules
{
    /// <summary>OpenAI's limit on the functions of one request.</summary>
    public const int MaxTools = 128;

    [GeneratedRegex(@"\A[a-zA-Z0-9_-]{1,64}\z")]
    private static partial Regex FunctionName();

    public static OpenAiError? Validate(ChatCompletionRequest request)
    {
        var tools = request.Tools ?? [];
        if (tools.Count > MaxTools)
        {
            return ChatRequestMapper.Invalid($"'tools' may hold at most {MaxTools} functions.", "tools");
        }

        for (var i = 0; i < tools.Count; i++)
        {
            if (ToolError(tools[i], $"tools[{i}]") is { } error)
            {
                return error;
            }
        }

        return ChoiceError(request.ToolChoice, tools);
    }

    private static OpenAiError? ToolError(ChatTool? tool, string at)
    {
        if (tool is null)
        {
            return ChatRequestMapper.Invalid($"{at} must be a tool object, not null.", at);
        }

        if (tool.Type is null)
        {
            return ChatRequestMapper.Invalid($"Missing required parameter: '{at}.type'.", $"{at}.type") with { Code = "missing_required_parameter" };
        }

        if (tool.Type != "function")
        {
            return ChatRequestMapper.Invalid($"{at}.type must be 'function': function tools are the ones this gateway passes on.", $"{at}.type") with { Code = UnsupportedParameters.Code };
        }

        if (tool.Function is not { } function)
        {
            return ChatRequestMapper.Invalid($"Missing required parameter: '{at}.function'.", $"{at}.function") with { Code = "missing_required_parameter" };
        }

        if (function.Name is null || !FunctionName().IsMatch(function.Name))
        {
            return ChatRequestMapper.Invalid(
                $"{at}.function.name must be 1 to 64 letters, digits, underscores or dashes.", $"{at}.function.name");
        }

        return function.Parameters is { ValueKind: not (JsonValueKind.Object or JsonValueKind.Null) }
            ? ChatRequestMapper.Invalid($"{at}.function.parameters must be a JSON schema object.", $"{at}.function.parameters")
            : null;
    }

    private static OpenAiError? ChoiceError(JsonElement? choice, List<ChatTool> tools)
    {
        if (choice is not { ValueKind: not JsonValueKind.Null } value)
        {
            return null;
        }

        if (value.ValueKind == JsonValueKind.String && value.GetString() is "none" or "auto")
        {
            return null; // asks for nothing without tools, and clients send it by default
        }

        if (tools.Count == 0)
        {
            return ChatRequestMapper.Invalid("'tool_choice' is only allowed when 'tools' are specified.", "tool_choice");
        }

        if (value.ValueKind == JsonValueKind.String && value.GetString() == "required")
        {
            return null;
        }

        if (NamedFunction(value) is not { } name)
        {
            var error = ChatRequestMapper.Invalid(
                "'tool_choice' must be \"none\", \"auto\", \"required\", or {\"type\": \"function\", \"function\": {\"name\": ...}}.", "tool_choice");

            // OpenAI's other kinds ("allowed_tools", "custom"): asked for, not mistaken.
            return value.ValueKind == JsonValueKind.Object && value.TryGetProperty("type", out var type) && type.ValueKind == JsonValueKind.String
                && type.GetString() != "function"
                ? error with { Code = UnsupportedParameters.Code }
                : error;
        }

        return tools.Exists(tool => tool.Function?.Name == name)
            ? null
            : ChatRequestMapper.Invalid($"'tool_choice' names the function '{name}', which is not among 'tools'.", "tool_choice");
    }

    /// <summary>The function a <c>{"type":"function","function":{"name":…}}</c> choice names, or null for any other value.</summary>
    internal static string? NamedFunction(JsonElement choice) =>
        choice.ValueKind == JsonValueKind.Object
        && choice.TryGetProperty("type", out var type) && type.ValueKind == JsonValueKind.String && type.GetString() == "function"
        && choice.TryGetProperty("function", out var function) && function.ValueKind == JsonValueKind.Object
        && function.TryGetProperty("name", out var name) && name.ValueKind == JsonValueKind.String
            ? name.GetString()
            : null;

    /// <summary>
    /// A message's tool calls or tool result, checked against the calls made before it: a <c>tool</c> message must
    /// answer a call of an earlier assistant turn (OpenAI asks more: that it follow that turn, and that each call be
    /// answered; the provider checks that). <paramref name="callIds"/> collects the calls' ids.
    /// </summary>
    public static OpenAiError? MessageError(ChatRequestMessage message, int i, HashSet<string> callIds)
    {
        if (message.ToolCalls is { Count: > 0 } calls)
        {
            if (message.Role != "assistant")
            {
                return ChatRequestMapper.Invalid($"messages[{i}].tool_calls: only an assistant message makes tool calls.", $"messages[{i}].tool_calls");
            }

            for (var c = 0; c < calls.Count; c++)
            {
                var at = $"messages[{i}].tool_calls[{c}]";
                if (CallError(calls[c], at) is { } error)
                {
                    return error;
                }

                callIds.Add(calls[c].Id!);
            }
        }

        if (message.Role != "tool")
        {
            return null;
        }

        if (string.IsNullOrEmpty(message.ToolCallId))
        {
            return ChatRequestMapper.Invalid($"Missing required parameter: 'messages[{i}].tool_call_id'.", $"messages[{i}].tool_call_id") with { Code = "missing_required_parameter" };
        }

        return callIds.Contains(message.ToolCallId)
            ? null
            : ChatRequestMapper.Invalid(
                $"messages[{i}] has role 'tool', so it must answer a tool call of an earlier assistant message; no call has the id '{message.ToolCallId}'.",
                $"messages[{i}].tool_call_id");
    }

    private static OpenAiError? CallError(ChatToolCall? call, string at)
    {
        if (call is null)
        {
            return ChatRequestMapper.Invalid($"{at} must be a tool call object, not null.", at);
        }

        if (string.IsNullOrEmpty(call.Id))
        {
            return ChatRequestMapper.Invalid($"Missing required parameter: '{at}.id'.", $"{at}.id") with { Code = "missing_required_parameter" };
        }

        if (call.Type != "function")
        {
            return ChatRequestMapper.Invalid($"{at}.type must be 'function'.", $"{at}.type");
        }

        if (call.Function is not { Name.Length: > 0, Arguments: not null })
        {
            return ChatRequestMapper.Invalid($"{at}.function must have a 'name' and its 'arguments' (a string).", $"{at}.function") with { Code = "missing_required_parameter" };
        }

        return null;
    }
}
