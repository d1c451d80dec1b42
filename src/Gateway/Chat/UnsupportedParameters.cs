using System.Text.Json;

namespace Gateway.Chat;

/// <summary>
/// OpenAI parameters the gateway does not pass on. A request that asks for what one of them does (JSON output, log
/// probabilities, penalties, audio...) is refused by name: answered as if it had not asked, it would get plain text
/// where the caller parses JSON, or no <c>logprobs</c> where it reads them. The neutral values that clients send by
/// default (<c>logprobs: false</c>, a penalty of 0, <c>response_format</c> text) ask for nothing and pass. Fields
/// OpenAI does not know either are ignored, as the OpenAI SDKs expect of a server newer or older than they are.
/// </summary>
internal static class UnsupportedParameters
{
    /// <summary>OpenAI's own code for a parameter a model does not take.</summary>
    public const string Code = "unsupported_parameter";

    private static readonly (string Name, Func<JsonElement, bool> AsksForNothing)[] Rules =
    [
        ("response_format", value => value.ValueKind == JsonValueKind.Object && value.TryGetProperty("type", out var type) && IsString(type, "text")),
        ("logprobs", value => value.ValueKind == JsonValueKind.False),
        ("top_logprobs", IsZero),
        ("presence_penalty", IsZero),
        ("frequency_penalty", IsZero),
        ("logit_bias", value => value.ValueKind == JsonValueKind.Object && !value.EnumerateObject().Any()),
        ("functions", value => value.ValueKind == JsonValueKind.Array && value.GetArrayLength() == 0),
        ("function_call", value => IsString(value, "none") || IsString(value, "auto")),
        ("modalities", value => value.ValueKind == JsonValueKind.Array && value.EnumerateArray().All(m => IsString(m, "text"))),
        ("audio", _ => false),
        ("prediction", _ => false),
        ("reasoning_effort", _ => false),
        ("web_search_options", _ => false),
        ("verbosity", value => IsString(value, "medium")),
        ("service_tier", value => IsString(value, "auto") || IsString(value, "default")),
        ("store", value => value.ValueKind == JsonValueKind.False),
    ];

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
