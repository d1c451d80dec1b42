using System.Text.Json;
using Gateway.Security;

namespace Gateway.Chat;

/// <summary>A request body the serializer refused, as the OpenAI error that names what is wrong with it.</summary>
internal static class ChatRequestJsonErrors
{
    /// <summary>
    /// The error for a body the serializer refused. A value of the wrong type is named by its path, as OpenAI names
    /// it, rather than in the serializer's words, which name the gateway's own types; a body that is not JSON keeps
    /// the reader's message (where it broke), and our converters' refusals keep their words, with the path.
    /// </summary>
    public static OpenAiError From(JsonException exception)
    {
        if (exception is ChatRequestRefused { Item: var item })
        {
            var member = exception.Path is { } refusedAt && refusedAt.StartsWith("$.", StringComparison.Ordinal) ? refusedAt[2..] : null;
            return ChatRequestMapper.Invalid(exception.Message, member is not null && item is not null ? $"{member}[{item}]" : member);
        }

        // Valid JSON, nested past the limit (a function's schema may come near it): not "not valid JSON".
        if (Hosting.JsonBody.NestsTooDeep(exception))
        {
            var at = exception.Path is { } deep && deep.StartsWith("$.", StringComparison.Ordinal) ? deep[2..] : null;
            return ChatRequestMapper.Invalid($"The request body nests past the maximum depth of {LimitsOptions.MaxJsonDepth} levels{(at is null ? "" : $", at '{at}'")}.", at);
        }

        if (exception.Message.StartsWith(DuplicateMessage, StringComparison.Ordinal))
        {
            // A known member by its path; one the gateway ignores (at "$") by the name the message quotes first, which
            // the runtime shortens past 15 characters ("presence_penalt..."): such a name is not repeated as if whole.
            var duplicated = exception.Path is { } at && at.StartsWith("$.", StringComparison.Ordinal) ? at[2..] : QuotedName(exception.Message);
            if (duplicated is null || duplicated.EndsWith("...", StringComparison.Ordinal))
            {
                return ChatRequestMapper.Invalid("The request body names a member more than once.");
            }

            // Inside a member taken as JSON (metadata, a schema), the path ends at that member, and the name is one of its own.
            return QuotedName(exception.Message) is { } inner && !inner.EndsWith("...", StringComparison.Ordinal)
                && duplicated != inner && !duplicated.EndsWith("." + inner, StringComparison.Ordinal)
                ? ChatRequestMapper.Invalid($"The request body names '{inner}' more than once in '{duplicated}'.", duplicated)
                : ChatRequestMapper.Invalid($"The request body names '{duplicated}' more than once.", duplicated);
        }

        if (!exception.Message.StartsWith(WrongTypeMessage, StringComparison.Ordinal) || exception.Path is not { } path)
        {
            return ChatRequestMapper.Invalid($"The request body is not valid JSON: {exception.Message}");
        }

        // Text that does not decode ("Cannot transcode invalid UTF-8…", "…invalid UTF-16…", "…incomplete UTF-16…" for a
        // high surrogate with no low one after it) is not a wrong type; as /api says. At "$" it is a member's name.
        var notUnicode = exception.InnerException is InvalidOperationException { Message: var reason } && reason.Contains(" UTF-", StringComparison.Ordinal);
        if (path == "$")
        {
            return notUnicode
                ? ChatRequestMapper.Invalid("A member name in the request body is not valid Unicode (invalid UTF-8, or a lone surrogate such as \\udc00).")
                : ChatRequestMapper.Invalid("The request body must be a JSON object.");
        }

        var param = path.StartsWith("$.", StringComparison.Ordinal) ? path[2..] : path;
        return notUnicode
            ? ChatRequestMapper.Invalid($"The text at '{param}' is not valid Unicode (invalid UTF-8, or a lone surrogate such as \\udc00).", param)
            : ChatRequestMapper.Invalid($"Invalid type for '{param}'.", param);
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
}
