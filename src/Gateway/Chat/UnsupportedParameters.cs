using System.Text.Json;

namespace Gateway.Chat;

/// <summary>
/// OpenAI parameters the gateway does not pass on, because what they ask for comes back in parts of the answer it does
/// not relay (log probabilities, audio, web search's citations) or in a form it has dropped (the deprecated
/// <c>functions</c>). A request that asks for one is refused by name: answered as if it had not asked, it would get no
/// <c>logprobs</c> where it reads them. The neutral values that clients send by default (<c>logprobs: false</c>)
/// ask for nothing and pass. Fields OpenAI does not know either are ignored, as the OpenAI SDKs expect of a server
/// newer or older than they are. (The parameters that only change what the model writes are passed on:
/// <see cref="PassedOnParameters"/>.)
/// </summary>
internal static class UnsupportedParameters
{
    /// <summary>OpenAI's own code for a parameter a model does not take.</summary>
    public const string Code = "unsupported_parameter";

    private static readonly (string Name, Func<JsonElement, bool> AsksForNothing)[] Rules =
    [
        ("logprobs", value => value.ValueKind == JsonValueKind.False),
        ("top_logprobs", IsZero),
        ("functions", value => value.ValueKind == JsonValueKind.Array && value.GetArrayLength() == 0),
        ("function_call", value => IsString(value, "none") || IsString(value, "auto")),
        ("modalities", value => value.ValueKind == JsonValueKind.Array && value.EnumerateArray().All(m => IsString(m, "text"))),
        ("audio", _ => false),
        ("web_search_options", _ => false),
        // Its results come back in the answer's own 'moderation' member, which the gateway does not relay.
        ("moderation", _ => false),
    ];

    /// <summary>Their names, as the request writes them.</summary>
    public static IEnumerable<string> Names => Rules.Select(rule => rule.Name);

    /// <summary>The first parameter in <paramref name="extra"/> that asks for something the gateway does not do, or null.</summary>
    /// <param name="extra">The request's fields that <see cref="ChatCompletionRequest"/> does not model.</param>
    public static string? FirstAskedFor(IReadOnlyDictionary<string, JsonElement>? extra)
    {
        if (extra is null)
        {
            return null;
        }

        foreach (var (name, asksForNothing) in Rules)
        {
            if (extra.TryGetValue(name, out var value) && value.ValueKind != JsonValueKind.Null && !asksForNothing(value))
            {
                return name;
            }
        }

        return null;
    }

    // Any JSON may arrive here: a value of another kind asks for something, and is refused with a 400, never a throw.
    private static bool IsZero(JsonElement value) => value.ValueKind == JsonValueKind.Number && value.TryGetDouble(out var number) && number == 0;

    private static bool IsString(JsonElement value, string text) => value.ValueKind == JsonValueKind.String && value.ValueEquals(text);
}
