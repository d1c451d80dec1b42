using System.Text.Json;
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

    /// <summary>
    /// OpenAI parameters sent on as the caller wrote them (<c>response_format</c>, the penalties, ...), a list of
    /// name and JSON value.
    /// </summary>
    public const string PassedOn = "gateway.passed_on";

    public static IReadOnlyList<KeyValuePair<string, JsonElement>> PassedOnOf(ChatOptions options) =>
        options.AdditionalProperties?.TryGetValue(PassedOn, out var passed) == true && passed is IReadOnlyList<KeyValuePair<string, JsonElement>> list ? list : [];

    /// <summary>Whether the caller asked for a JSON answer (<c>response_format</c> <c>json_object</c> or <c>json_schema</c>).</summary>
    public static bool AsksForJson(ChatOptions? options)
    {
        foreach (var (name, value) in options is null ? [] : PassedOnOf(options))
        {
            if (name == "response_format" && value.TryGetProperty("type", out var type) && !type.ValueEquals("text"))
            {
                return true;
            }
        }

        return false;
    }
}
