using System.Text.Json;

namespace Gateway.Chat;

/// <summary>
/// OpenAI parameters that change what the model writes but not the answer's shape on the wire (text, or tool calls):
/// the output format (<c>response_format</c>, JSON mode and Structured Outputs), sampling (penalties, <c>logit_bias</c>),
/// a reasoning model's effort, and OpenAI's own request options. They are sent on to an OpenAI-compatible provider
/// as the caller wrote them, JSON for JSON: a number is not turned into a float on the way, nor a schema reordered.
/// Each is checked for its kind (and the penalties for OpenAI's range) so that a mistake is a 400 naming it here. The
/// simulated models ignore the sampling ones, as they ignore <c>temperature</c>, and refuse a JSON response format,
/// which they cannot honour.
/// </summary>
internal static class PassedOnParameters
{
    private static readonly (string Name, Func<JsonElement, string?> Problem)[] Rules =
    [
        ("response_format", ResponseFormatProblem),
        ("presence_penalty", Penalty),
        ("frequency_penalty", Penalty),
        ("logit_bias", value => Kind(value, JsonValueKind.Object, "an object of token ids and biases")),
        ("reasoning_effort", value => Kind(value, JsonValueKind.String, "a string")),
        ("verbosity", value => Kind(value, JsonValueKind.String, "a string")),
        ("service_tier", value => Kind(value, JsonValueKind.String, "a string")),
        ("store", value => value.ValueKind is JsonValueKind.True or JsonValueKind.False ? null : "must be a boolean"),
        ("metadata", value => Kind(value, JsonValueKind.Object, "an object")),
        ("prediction", value => Kind(value, JsonValueKind.Object, "an object")),
        ("prompt_cache_key", value => Kind(value, JsonValueKind.String, "a string")),
        // How long OpenAI keeps the cached prefix (cost and cache hits): dropped, a caller paid for a cache it asked to keep.
        ("prompt_cache_retention", value => Kind(value, JsonValueKind.String, "a string")),
        ("prompt_cache_options", PromptCacheOptionsProblem),
        ("safety_identifier", value => Kind(value, JsonValueKind.String, "a string")),
    ];

    /// <summary>Their names, as the request writes them.</summary>
    public static IEnumerable<string> Names => Rules.Select(rule => rule.Name);

    /// <summary>The first of them that is not of its kind, as a 400; null when all are fine.</summary>
    public static OpenAiError? Validate(IReadOnlyDictionary<string, JsonElement>? extra)
    {
        foreach (var (name, problem) in Rules)
        {
            if (extra is not null && extra.TryGetValue(name, out var value) && value.ValueKind != JsonValueKind.Null && problem(value) is { } what)
            {
                return ChatRequestMapper.Invalid($"'{name}' {what}.", name);
            }
        }

        return null;
    }

    /// <summary>Those the request sets (a null sets nothing), in a fixed order, for the provider's request body.</summary>
    public static List<KeyValuePair<string, JsonElement>>? Of(IReadOnlyDictionary<string, JsonElement>? extra)
    {
        List<KeyValuePair<string, JsonElement>>? passed = null;
        foreach (var (name, _) in Rules)
        {
            if (extra is not null && extra.TryGetValue(name, out var value) && value.ValueKind != JsonValueKind.Null)
            {
                (passed ??= []).Add(new(name, value));
            }
        }

        return passed;
    }

    /// <summary>
    /// Explicit mode caches only at the content parts' <c>prompt_cache_breakpoint</c>s, which the gateway does not relay
    /// (it sends a message's text parts as one text): passed on, it would turn the prompt cache off.
    /// </summary>
    private static string? PromptCacheOptionsProblem(JsonElement value) =>
        value.ValueKind != JsonValueKind.Object ? "must be an object"
        : value.TryGetProperty("mode", out var mode) && mode.ValueKind == JsonValueKind.String && mode.ValueEquals("explicit")
            ? "with mode 'explicit' is not supported by this gateway: it does not pass on content parts' 'prompt_cache_breakpoint', and without one nothing would be cached"
        : null;

    private static string? Kind(JsonElement value, JsonValueKind kind, string what) => value.ValueKind == kind ? null : $"must be {what}";

    // OpenAI's range; a number past a double's (1e400) is out of it, not a crash.
    private static string? Penalty(JsonElement value) =>
        value.ValueKind == JsonValueKind.Number && value.TryGetDouble(out var number) && number is >= -2 and <= 2 ? null : "must be a number from -2 to 2";

    private static string? ResponseFormatProblem(JsonElement value)
    {
        if (value.ValueKind != JsonValueKind.Object || !value.TryGetProperty("type", out var type) || type.ValueKind != JsonValueKind.String)
        {
            return "must be an object with a 'type': \"text\", \"json_object\" or \"json_schema\"";
        }

        if (type.ValueEquals("text") || type.ValueEquals("json_object"))
        {
            return null;
        }

        if (!type.ValueEquals("json_schema"))
        {
            return "has an unknown 'type': it must be \"text\", \"json_object\" or \"json_schema\"";
        }

        return value.TryGetProperty("json_schema", out var schema) && schema.ValueKind == JsonValueKind.Object
            && schema.TryGetProperty("name", out var name) && name.ValueKind == JsonValueKind.String
            ? null
            : "of type \"json_schema\" needs a 'json_schema' object with a 'name'";
    }
}
