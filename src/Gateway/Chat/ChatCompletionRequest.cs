using System.Text.Json;
using System.Text.Json.Serialization;

namespace Gateway.Chat;

/// <summary>The OpenAI Chat Completions request, as much of it as the gateway honours.</summary>
internal sealed record ChatCompletionRequest
{
    [JsonPropertyName("model")] public string? Model { get; init; }
    [JsonPropertyName("messages")] public List<ChatRequestMessage>? Messages { get; init; }
    [JsonPropertyName("stream")] public bool? Stream { get; init; }
    [JsonPropertyName("stream_options")] public StreamOptions? StreamOptions { get; init; }
    [JsonPropertyName("temperature")] public double? Temperature { get; init; }
    [JsonPropertyName("top_p")] public double? TopP { get; init; }
    [JsonPropertyName("max_tokens")] public int? MaxTokens { get; init; }
    [JsonPropertyName("max_completion_tokens")] public int? MaxCompletionTokens { get; init; }

    [JsonPropertyName("stop")]
    [JsonConverter(typeof(StopSequencesConverter))]
    public List<string>? Stop { get; init; }

    [JsonPropertyName("seed")] public long? Seed { get; init; }
    [JsonPropertyName("user")] public string? User { get; init; }
    [JsonPropertyName("n")] public int? N { get; init; }

    /// <summary>Read only to refuse it clearly: the gateway does not route tool calls.</summary>
    [JsonPropertyName("tools")] public JsonElement? Tools { get; init; }

    /// <summary>Every other field, kept only to be checked by <see cref="UnsupportedParameters"/>; null when there is none.</summary>
    /// <remarks>A setter, not init: the serializer fills extension data after construction, not through its initializer.</remarks>
    [JsonExtensionData] public Dictionary<string, JsonElement>? Extra { get; set; }
}

internal sealed record StreamOptions
{
    [JsonPropertyName("include_usage")] public bool? IncludeUsage { get; init; }
}

internal sealed record ChatRequestMessage
{
    [JsonPropertyName("role")] public string? Role { get; init; }

    /// <summary>A string, or text parts joined into one string.</summary>
    [JsonPropertyName("content")]
    [JsonConverter(typeof(MessageContentConverter))]
    public string? Content { get; init; }

    [JsonPropertyName("name")] public string? Name { get; init; }

    /// <summary>An assistant turn's tool calls: refused, as <c>tools</c> are, not dropped from the conversation.</summary>
    [JsonPropertyName("tool_calls")] public JsonElement? ToolCalls { get; init; }

    /// <summary>The older form of the same.</summary>
    [JsonPropertyName("function_call")] public JsonElement? FunctionCall { get; init; }
}
