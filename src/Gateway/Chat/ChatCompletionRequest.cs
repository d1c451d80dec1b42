using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.Extensions.AI;

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

    /// <summary>Functions the model may call (at most 128); the caller runs them, not the gateway.</summary>
    [JsonPropertyName("tools")] public List<ChatTool>? Tools { get; init; }

    [JsonPropertyName("tool_choice")] public JsonElement? ToolChoice { get; init; }

    /// <summary>Whether the model may call several functions in one turn (sent on only with <c>tools</c>).</summary>
    [JsonPropertyName("parallel_tool_calls")] public bool? ParallelToolCalls { get; init; }

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

    [JsonPropertyName("content")]
    [JsonConverter(typeof(MessageContentConverter))]
    public MessageContent? Content { get; init; }

    [JsonPropertyName("name")] public string? Name { get; init; }

    /// <summary>An assistant turn's calls to the caller's functions.</summary>
    [JsonPropertyName("tool_calls")] public List<ChatToolCall>? ToolCalls { get; init; }

    /// <summary>
    /// An assistant turn's thinking, as the gateway streamed it (<c>delta.reasoning_content</c>): DeepSeek's thinking
    /// mode requires it back on a turn that called tools, and the SDKs that keep it send it.
    /// </summary>
    [JsonPropertyName("reasoning_content")] public string? ReasoningContent { get; init; }

    /// <summary>
    /// An assistant turn's refusal, as an answer carried it (<c>message.refusal</c>, with <c>content: null</c>): the SDKs
    /// send the answer's message back whole. Passed on as such, not as an empty turn the model would read as no answer.
    /// </summary>
    [JsonPropertyName("refusal")] public string? Refusal { get; init; }

    /// <summary>In a <c>tool</c> message: the id of the call whose result it gives, from an earlier assistant message.</summary>
    [JsonPropertyName("tool_call_id")] public string? ToolCallId { get; init; }

    /// <summary>The form of tool calls OpenAI deprecated: refused, not dropped from the conversation; use <c>tool_calls</c>.</summary>
    [JsonPropertyName("function_call")] public JsonElement? FunctionCall { get; init; }
}

/// <summary>A message's <c>content</c>: its text (a string, or its text parts joined), and its parts when one is an image.</summary>
/// <param name="Text">What the rest of the gateway reads of the message: its budget estimate, the echo, the content log.</param>
/// <param name="Parts">Text (<see cref="TextContent"/>) and images (<see cref="Providers.ImagePart"/>) in the caller's order; null for text alone.</param>
/// <param name="Refusal">The text of its refusal parts (an assistant's), or null when it has none.</param>
/// <param name="RefusalPart">Where its first refusal part is, for a 400 that names it.</param>
internal sealed record MessageContent(string Text, List<AIContent>? Parts = null, string? Refusal = null, int? RefusalPart = null);

/// <summary>One of <c>tools</c>: a function the model may call.</summary>
internal sealed record ChatTool
{
    [JsonPropertyName("type")] public string? Type { get; init; }
    [JsonPropertyName("function")] public ChatFunction? Function { get; init; }
}

internal sealed record ChatFunction
{
    [JsonPropertyName("name")] public string? Name { get; init; }
    [JsonPropertyName("description")] public string? Description { get; init; }

    /// <summary>The arguments' JSON schema, an object; sent on as written.</summary>
    [JsonPropertyName("parameters")] public JsonElement? Parameters { get; init; }

    [JsonPropertyName("strict")] public bool? Strict { get; init; }
}

/// <summary>One call of an assistant turn's <c>tool_calls</c>, as the model made it and the caller sends it back.</summary>
internal sealed record ChatToolCall
{
    [JsonPropertyName("id")] public string? Id { get; init; }
    [JsonPropertyName("type")] public string? Type { get; init; }
    [JsonPropertyName("function")] public ChatFunctionCall? Function { get; init; }
}

internal sealed record ChatFunctionCall
{
    [JsonPropertyName("name")] public string? Name { get; init; }

    /// <summary>The arguments as the model wrote them: JSON text, in a string.</summary>
    [JsonPropertyName("arguments")] public string? Arguments { get; init; }
}
