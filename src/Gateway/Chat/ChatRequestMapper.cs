using System.Text.Json;
using Gateway.Hosting;
using Gateway.Providers;
using Gateway.Providers.Tools;
using Gateway.Security;
using Microsoft.Extensions.AI;

namespace Gateway.Chat;

/// <summary>Checks a request the way OpenAI does and turns it into the abstraction's messages and options.</summary>
internal static class ChatRequestMapper
{
    private static readonly HashSet<string> KnownRoles = new(StringComparer.Ordinal) { "system", "developer", "user", "assistant", "tool" };

    /// <summary>The members outside the typed request that the gateway reads (to refuse them) or passes on.</summary>
    private static readonly string[] ReadMembers = [.. PassedOnParameters.Names, .. UnsupportedParameters.Names];

    /// <summary>The first problem with the request, as an OpenAI error; null when it is fine.</summary>
    public static OpenAiError? Validate(ChatCompletionRequest request)
    {
        if (string.IsNullOrWhiteSpace(request.Model))
        {
            return Invalid("'model' is required.", "model");
        }

        if (request.Messages is not { Count: > 0 } messages)
        {
            return Invalid("'messages' must be a non-empty array.", "messages");
        }

        HashSet<string>? callIds = null; // made at the first tool call or tool message: most requests have none
        for (var i = 0; i < messages.Count; i++)
        {
            var message = messages[i];
            if (message is null)
            {
                return Invalid($"messages[{i}] must be a message object, not null.", $"messages[{i}]");
            }

            // Answered without it, the model would see a conversation the caller did not send.
            if (message.FunctionCall is { ValueKind: not JsonValueKind.Null })
            {
                return Invalid("'function_call' (deprecated by OpenAI) is not supported by this gateway: use 'tool_calls'.", $"messages[{i}].function_call") with { Code = UnsupportedParameters.Code };
            }

            if (message.Role is null || !KnownRoles.Contains(message.Role))
            {
                return Invalid($"messages[{i}].role must be one of: {string.Join(", ", KnownRoles)}.", $"messages[{i}].role");
            }

            if ((message.ToolCalls is { Count: > 0 } || message.Role == "tool")
                && ToolRequestRules.MessageError(message, i, callIds ??= new(StringComparer.Ordinal)) is { } toolError)
            {
                return toolError;
            }

            if (message.Role != "user" && message.Content?.Parts is { } parts && parts.FindIndex(part => part is ImagePart) is var image and >= 0)
            {
                return Invalid($"messages[{i}].content[{image}]: only a user message may show the model an image.", $"messages[{i}].content[{image}]");
            }

            if (message.Role != "assistant" && message.Content?.RefusalPart is { } refusalPart)
            {
                return Invalid($"messages[{i}].content[{refusalPart}]: only an assistant message may carry a refusal.", $"messages[{i}].content[{refusalPart}]");
            }

            // As OpenAI: only an assistant turn may come without text (it may carry tool calls instead); a user
            // message without any was answered as if it were empty.
            if (message.Content is null && message.Role != "assistant")
            {
                return Invalid($"Missing required parameter: 'messages[{i}].content'.", $"messages[{i}].content") with { Code = "missing_required_parameter" };
            }
        }

        if (request.Temperature is < 0 or > 2)
        {
            return Invalid("'temperature' must be between 0 and 2.", "temperature");
        }

        if (request.TopP is < 0 or > 1)
        {
            return Invalid("'top_p' must be between 0 and 1.", "top_p");
        }

        if (request.MaxTokens is < 1 or > LimitsOptions.MaxOutputTokens)
        {
            return Invalid($"'max_tokens' must be from 1 to {LimitsOptions.MaxOutputTokens}.", "max_tokens");
        }

        if (request.MaxCompletionTokens is < 1 or > LimitsOptions.MaxOutputTokens)
        {
            return Invalid($"'max_completion_tokens' must be from 1 to {LimitsOptions.MaxOutputTokens}.", "max_completion_tokens");
        }

        // OpenAI refuses both at once rather than pick one; so do we, instead of silently keeping one of two caps.
        if (request.MaxTokens is not null && request.MaxCompletionTokens is not null)
        {
            return Invalid("Setting 'max_tokens' and 'max_completion_tokens' at the same time is not supported.", "max_tokens") with { Code = "invalid_parameter_combination" };
        }

        if (request.Stop is { Count: > 4 })
        {
            return Invalid("'stop' may hold at most 4 sequences.", "stop");
        }

        if (request.N is not (null or 1))
        {
            return Invalid("Only n = 1 is supported.", "n") with { Code = UnsupportedParameters.Code };
        }

        if (FirstInvalidRawText(request) is { } notText)
        {
            return Invalid($"The text at '{notText}' is not valid Unicode (invalid UTF-8, or a lone surrogate such as \\udc00).", notText);
        }

        if (ToolRequestRules.Validate(request) is { } toolsError)
        {
            return toolsError;
        }

        if (PassedOnParameters.Validate(request.Extra) is { } passedOnError)
        {
            return passedOnError;
        }

        if (UnsupportedParameters.FirstAskedFor(request.Extra) is { } unsupported)
        {
            return Invalid($"'{unsupported}' is not supported by this gateway; the request would not get what it asks for.", unsupported) with { Code = UnsupportedParameters.Code };
        }

        return null;
    }

    /// <summary>
    /// Where a member kept as raw JSON (<c>tool_choice</c>, a function's <c>parameters</c>, the passed-on members) holds
    /// text that does not decode; null for none. The serializer decodes every typed string, and a lone surrogate there is
    /// a 400; raw members were decoded only when a check read them, which threw (a 500), or when the provider's request
    /// was written (a 502 blamed on the provider).
    /// </summary>
    private static string? FirstInvalidRawText(ChatCompletionRequest request)
    {
        if (request.ToolChoice is { } toolChoice && JsonText.BrokenTextBelow(toolChoice) is { } inChoice)
        {
            return "tool_choice" + inChoice;
        }

        for (var i = 0; i < (request.Tools?.Count ?? 0); i++)
        {
            if (request.Tools![i]?.Function?.Parameters is { } parameters && JsonText.BrokenTextBelow(parameters) is { } inParameters)
            {
                return $"tools[{i}].function.parameters{inParameters}";
            }
        }

        // The members the gateway reads or passes on; any other is ignored, whatever it holds.
        if (request.Extra is { } extra)
        {
            foreach (var name in ReadMembers)
            {
                if (extra.TryGetValue(name, out var value) && JsonText.BrokenTextBelow(value) is { } inExtra)
                {
                    return name + inExtra;
                }
            }
        }

        return null;
    }

    /// <summary>An assistant turn's refusal: its <c>refusal</c> member, or else its refusal parts (OpenAI takes either).</summary>
    private static string? Refusal(ChatRequestMessage message) =>
        string.IsNullOrEmpty(message.Refusal) ? message.Content?.Refusal : message.Refusal;

    public static List<ChatMessage> ToMessages(ChatCompletionRequest request)
    {
        var messages = new List<ChatMessage>(request.Messages!.Count);
        foreach (var message in request.Messages)
        {
            if (message.Role == "tool")
            {
                var result = ToolResults.Message(message.ToolCallId!, message.Content!.Text);
                result.AuthorName = message.Name;
                messages.Add(result);
            }
            else if (message.Role == "assistant"
                && (message.ToolCalls is { Count: > 0 } || !string.IsNullOrEmpty(message.ReasoningContent) || !string.IsNullOrEmpty(Refusal(message))))
            {
                List<AIContent> contents = string.IsNullOrEmpty(message.ReasoningContent) ? [] : [new TextReasoningContent(message.ReasoningContent)];
                if (message.Content is { Text.Length: > 0 } content)
                {
                    contents.Add(new TextContent(content.Text));
                }

                if (Refusal(message) is { Length: > 0 } refusal)
                {
                    contents.Add(new Providers.RefusalContent(refusal));
                }

                ToolRequestMapper.AddCalls(contents, message.ToolCalls ?? []);
                messages.Add(new ChatMessage(ChatRole.Assistant, contents) { AuthorName = message.Name });
            }
            else
            {
                // A user message that shows an image goes as its parts, in order (Validate: only a user message has images).
                messages.Add(message.Content?.Parts is { } parts
                    ? new ChatMessage(ChatRole.User, parts) { AuthorName = message.Name }
                    : new ChatMessage(new ChatRole(message.Role!), message.Content?.Text ?? "") { AuthorName = message.Name });
            }
        }

        return messages;
    }

    public static ChatOptions ToOptions(ChatCompletionRequest request)
    {
        var options = new ChatOptions
        {
            Temperature = (float?)request.Temperature,
            TopP = (float?)request.TopP,
            MaxOutputTokens = request.MaxCompletionTokens ?? request.MaxTokens, // at most one is set (Validate)
            Seed = request.Seed,
            StopSequences = Providers.StopSequences.Usable(request.Stop),
            Tools = ToolRequestMapper.Tools(request),
        };

        // Without tools a choice asks for nothing, and OpenAI refuses either with no tools to apply it to.
        if (options.Tools is not null)
        {
            options.ToolMode = ToolRequestMapper.Mode(request);
            options.AllowMultipleToolCalls = request.ParallelToolCalls;
        }

        if (request.User is not null)
        {
            (options.AdditionalProperties ??= [])[ChatOptionKeys.User] = request.User;
        }

        if (PassedOnParameters.Of(request.Extra) is { } passedOn)
        {
            (options.AdditionalProperties ??= [])[ChatOptionKeys.PassedOn] = passedOn;
        }

        return options;
    }

    public static OpenAiError Invalid(string message, string? param = null) =>
        new() { Message = message, Type = "invalid_request_error", Param = param };
}
