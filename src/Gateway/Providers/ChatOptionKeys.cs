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

    public static string? EndUser(ChatOptions options) =>
        options.AdditionalProperties?.TryGetValue(User, out var user) == true ? user as string : null;
}
