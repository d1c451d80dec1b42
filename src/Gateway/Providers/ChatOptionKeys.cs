using Microsoft.Extensions.AI;

namespace Gateway.Providers;

/// <summary>
/// What a caller asked for that <see cref="ChatOptions"/> has no member for, kept in its
/// <see cref="ChatOptions.AdditionalProperties"/> for the OpenAI-compatible provider to send on.
/// </summary>
internal static class ChatOptionKeys
{
    /// <summary>The caller's end-user id (<c>user</c>), a string.</summary>
    public const string User = "user";

    /// <summary>
    /// Present when the caller capped the completion with <c>max_tokens</c> rather than <c>max_completion_tokens</c>.
    /// The cap goes upstream under the caller's name: servers such as Ollama and LM Studio read only the older one,
    /// and OpenAI's reasoning models refuse it, so the caller, who knows its server, chooses.
    /// </summary>
    public const string MaxTokensByItsOldName = "max_tokens";

    public static string? EndUser(ChatOptions options) =>
        options.AdditionalProperties?.TryGetValue(User, out var user) == true ? user as string : null;

    public static bool NamesMaxTokensTheOldWay(ChatOptions options) =>
        options.AdditionalProperties?.ContainsKey(MaxTokensByItsOldName) == true;
}
