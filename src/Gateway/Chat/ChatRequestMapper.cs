using System.Text.Json;
using Gateway.Providers;
using Gateway.Security;
using Microsoft.Extensions.AI;

namespace Gateway.Chat;

/// <summary>Checks a request the way OpenAI does and turns it into the abstraction's messages and options.</summary>
internal static class ChatRequestMapper
{
    private static readonly HashSet<string> KnownRoles = new(StringComparer.Ordinal) { "system", "developer", "user", "assistant" };

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

        for (var i = 0; i < messages.Count; i++)
        {
            var message = messages[i];
            if (message is null)
            {
                return Invalid($"messages[{i}] must be a message object, not null.", $"messages[{i}]");
            }

            // Answered without them, the model would see a conversation the caller did not send.
            if (AsksForToolCalls(message.ToolCalls) || AsksForToolCalls(message.FunctionCall))
            {
                var field = AsksForToolCalls(message.ToolCalls) ? "tool_calls" : "function_call";
                return Invalid("Tool calls are not supported by this gateway.", $"messages[{i}].{field}") with { Code = UnsupportedParameters.Code };
            }

            if (message.Role is null || !KnownRoles.Contains(message.Role))
            {
                return Invalid($"messages[{i}].role must be one of: {string.Join(", ", KnownRoles)}.", $"messages[{i}].role");
            }

            // As OpenAI: only an assistant turn may come without text (it would carry tool calls, which are refused
            // above); a user message without any was answered as if it were empty.
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

        if (request.Tools is { ValueKind: not System.Text.Json.JsonValueKind.Null })
        {
            return Invalid("Tool calls are not supported by this gateway.", "tools") with { Code = UnsupportedParameters.Code };
        }

        if (UnsupportedParameters.FirstAskedFor(request.Extra) is { } unsupported)
        {
            return Invalid($"'{unsupported}' is not supported by this gateway; the request would not get what it asks for.", unsupported) with { Code = UnsupportedParameters.Code };
        }

        return null;
    }

    /// <summary>A message's <c>tool_calls</c> (or <c>function_call</c>) that holds any: an empty array or null asks for nothing.</summary>
    private static bool AsksForToolCalls(JsonElement? value) =>
        value is { ValueKind: not JsonValueKind.Null } calls && !(calls.ValueKind == JsonValueKind.Array && calls.GetArrayLength() == 0);

    public static List<ChatMessage> ToMessages(ChatCompletionRequest request)
    {
        var messages = new List<ChatMessage>(request.Messages!.Count);
        foreach (var message in request.Messages)
        {
            messages.Add(new ChatMessage(new ChatRole(message.Role!), message.Content ?? "") { AuthorName = message.Name });
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
        };
        if (request.User is not null)
        {
            (options.AdditionalProperties ??= [])[ChatOptionKeys.User] = request.User;
        }

        return options;
    }

    /// <summary>
    /// The error for a body the serializer refused. A value of the wrong type is named by its path, as OpenAI names
    /// it, rather than in the serializer's words, which name the gateway's own types; a body that is not JSON keeps
    /// the reader's message (where it broke), and our converters' refusals keep their words, with the path.
    /// </summary>
    public static OpenAiError FromJsonException(JsonException exception)
    {
        if (exception is ChatRequestRefused)
        {
            return Invalid(exception.Message, exception.Path is { } at && at.StartsWith("$.", StringComparison.Ordinal) ? at[2..] : null);
        }

        if (exception.Message.StartsWith(DuplicateMessage, StringComparison.Ordinal))
        {
            // A known member by its path; one the gateway ignores (at "$") by the name the message quotes first, which
            // the runtime shortens past 15 characters ("presence_penalt..."): such a name is not repeated as if whole.
            var duplicated = exception.Path is { } at && at.StartsWith("$.", StringComparison.Ordinal) ? at[2..] : QuotedName(exception.Message);
            return duplicated is null || duplicated.EndsWith("...", StringComparison.Ordinal)
                ? Invalid("The request body names a member more than once.")
                : Invalid($"The request body names '{duplicated}' more than once.", duplicated);
        }

        if (!exception.Message.StartsWith(WrongTypeMessage, StringComparison.Ordinal) || exception.Path is not { } path)
        {
            return Invalid($"The request body is not valid JSON: {exception.Message}");
        }

        // Text that does not decode ("Cannot transcode invalid UTF-8…", "…invalid UTF-16…", "…incomplete UTF-16…" for a
        // high surrogate with no low one after it) is not a wrong type; as /api says. At "$" it is a member's name.
        var notUnicode = exception.InnerException is InvalidOperationException { Message: var reason } && reason.Contains(" UTF-", StringComparison.Ordinal);
        if (path == "$")
        {
            return notUnicode
                ? Invalid("A member name in the request body is not valid Unicode (invalid UTF-8, or a lone surrogate such as \\udc00).")
                : Invalid("The request body must be a JSON object.");
        }

        var param = path.StartsWith("$.", StringComparison.Ordinal) ? path[2..] : path;
        return notUnicode
            ? Invalid($"The text at '{param}' is not valid Unicode (invalid UTF-8, or a lone surrogate such as \\udc00).", param)
            : Invalid($"Invalid type for '{param}'.", param);
    }

    // How System.Text.Json begins the message of a value it could not convert to the member's type.
    private const string WrongTypeMessage = "The JSON value could not be converted to ";

    // How it begins the message of a member named twice (JsonSerializerOptions.AllowDuplicateProperties off).
    private const string DuplicateMessage = "Duplicate property ";

    private static string? QuotedName(string message)
    {
        var start = message.IndexOf('\'', StringComparison.Ordinal) + 1;
        var end = start > 0 ? message.IndexOf('\'', start) : -1;
        return end > start ? message[start..end] : null;
    }

    public static OpenAiError Invalid(string message, string? param = null) =>
        new() { Message = message, Type = "invalid_request_error", Param = param };
}
