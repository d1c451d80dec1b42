using System.Text.Json.Serialization;

namespace Gateway.Chat;

/// <summary>One <c>chat.completion.chunk</c> of a streamed completion.</summary>
internal sealed record ChatCompletionChunk
{
    [JsonPropertyName("id")] public required string Id { get; init; }
    [JsonPropertyName("object")] public string Object { get; init; } = "chat.completion.chunk";
    [JsonPropertyName("created")] public required long Created { get; init; }
    [JsonPropertyName("model")] public required string Model { get; init; }

    /// <summary>The tier that served the completion (OpenAI bills by it), when the upstream named one.</summary>
    [JsonPropertyName("service_tier")] public string? ServiceTier { get; init; }

    /// <summary>The upstream's backend configuration, which a caller using <c>seed</c> compares, when it named one.</summary>
    [JsonPropertyName("system_fingerprint")] public string? SystemFingerprint { get; init; }

    [JsonPropertyName("choices")] public required IReadOnlyList<ChunkChoice> Choices { get; init; }
    [JsonPropertyName("usage")] public CompletionUsage? Usage { get; init; }
}

internal sealed record ChunkChoice
{
    [JsonPropertyName("index")] public int Index { get; init; }
    [JsonPropertyName("delta")] public required ChunkDelta Delta { get; init; }

    /// <summary>Null on every chunk but the last; written as null, as OpenAI does.</summary>
    [JsonPropertyName("finish_reason")]
    [JsonIgnore(Condition = JsonIgnoreCondition.Never)]
    public string? FinishReason { get; init; }
}

internal sealed record ChunkDelta
{
    [JsonPropertyName("role")] public string? Role { get; init; }
    [JsonPropertyName("content")] public string? Content { get; init; }
    [JsonPropertyName("reasoning_content")] public string? ReasoningContent { get; init; }

    /// <summary>The model's refusal, piece by piece (with Structured Outputs, in place of the JSON asked for).</summary>
    [JsonPropertyName("refusal")] public string? Refusal { get; init; }

    /// <summary>Pieces of the model's calls to the caller's functions: the first of a call names it, the next add arguments.</summary>
    [JsonPropertyName("tool_calls")] public IReadOnlyList<WireToolCall>? ToolCalls { get; init; }
}

/// <summary>
/// A tool call as OpenAI writes it: whole in a message (no <c>index</c>), or a piece of one in a chunk's delta, where only
/// the first piece has the <c>id</c>, <c>type</c> and the function's <c>name</c>.
/// </summary>
internal sealed record WireToolCall
{
    [JsonPropertyName("index")] public int? Index { get; init; }
    [JsonPropertyName("id")] public string? Id { get; init; }
    [JsonPropertyName("type")] public string? Type { get; init; }
    [JsonPropertyName("function")] public WireFunctionCall? Function { get; init; }
}

internal sealed record WireFunctionCall
{
    [JsonPropertyName("name")] public string? Name { get; init; }

    /// <summary>The arguments as the model wrote them (JSON text, which may not parse), or the next piece of them.</summary>
    [JsonPropertyName("arguments")] public string? Arguments { get; init; }
}

/// <summary>A whole <c>chat.completion</c>, the non-streaming answer.</summary>
internal sealed record ChatCompletion
{
    [JsonPropertyName("id")] public required string Id { get; init; }
    [JsonPropertyName("object")] public string Object { get; init; } = "chat.completion";
    [JsonPropertyName("created")] public required long Created { get; init; }
    [JsonPropertyName("model")] public required string Model { get; init; }
    [JsonPropertyName("choices")] public required IReadOnlyList<CompletionChoice> Choices { get; init; }
    [JsonPropertyName("usage")] public required CompletionUsage Usage { get; init; }

    /// <summary>The tier that served the completion (OpenAI bills by it), when the upstream named one.</summary>
    [JsonPropertyName("service_tier")] public string? ServiceTier { get; init; }

    /// <summary>The upstream's backend configuration, which a caller using <c>seed</c> compares, when it named one.</summary>
    [JsonPropertyName("system_fingerprint")] public string? SystemFingerprint { get; init; }
}

internal sealed record CompletionChoice
{
    [JsonPropertyName("index")] public int Index { get; init; }
    [JsonPropertyName("message")] public required CompletionMessage Message { get; init; }
    [JsonPropertyName("finish_reason")] public required string FinishReason { get; init; }
}

internal sealed record CompletionMessage
{
    [JsonPropertyName("role")] public string Role { get; init; } = "assistant";

    /// <summary>The answer's text; null, as OpenAI writes it, for a turn that only calls tools.</summary>
    [JsonPropertyName("content")]
    [JsonIgnore(Condition = JsonIgnoreCondition.Never)]
    public required string? Content { get; init; }

    [JsonPropertyName("tool_calls")] public IReadOnlyList<WireToolCall>? ToolCalls { get; init; }

    /// <summary>The model's refusal (with Structured Outputs, in place of the JSON asked for), then content is null; else null.</summary>
    // Written when null, as OpenAI does: left out, `message.refusal !== null` was true of every answer.
    [JsonPropertyName("refusal")]
    [JsonIgnore(Condition = JsonIgnoreCondition.Never)]
    public string? Refusal { get; init; }

    /// <summary>A reasoning model's thinking, under DeepSeek's name, when the provider sent it.</summary>
    [JsonPropertyName("reasoning_content")] public string? ReasoningContent { get; init; }
}

internal sealed record CompletionUsage
{
    [JsonPropertyName("prompt_tokens")] public long PromptTokens { get; init; }
    [JsonPropertyName("completion_tokens")] public long CompletionTokens { get; init; }
    [JsonPropertyName("total_tokens")] public long TotalTokens { get; init; }

    /// <summary>Of the prompt, how much the provider served from its cache (billed lower), when it said so.</summary>
    [JsonPropertyName("prompt_tokens_details")] public PromptTokensDetails? PromptTokensDetails { get; init; }

    /// <summary>Of the completion, how much was a reasoning model's hidden thinking, when the provider said so.</summary>
    [JsonPropertyName("completion_tokens_details")] public CompletionTokensDetails? CompletionTokensDetails { get; init; }
}

internal sealed record PromptTokensDetails([property: JsonPropertyName("cached_tokens")] long CachedTokens);

internal sealed record CompletionTokensDetails([property: JsonPropertyName("reasoning_tokens")] long ReasoningTokens);

/// <summary>The <c>GET /v1/models</c> answer.</summary>
internal sealed record ModelList
{
    [JsonPropertyName("object")] public string Object { get; init; } = "list";
    [JsonPropertyName("data")] public required IReadOnlyList<ModelInfo> Data { get; init; }
}

internal sealed record ModelInfo
{
    [JsonPropertyName("id")] public required string Id { get; init; }
    [JsonPropertyName("object")] public string Object { get; init; } = "model";
    [JsonPropertyName("created")] public long Created { get; init; }
    [JsonPropertyName("owned_by")] public string OwnedBy { get; init; } = "gateway";
}
