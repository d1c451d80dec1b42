using System.Text.Json;
using Gateway.Providers;
using Gateway.Providers.Tools;
using Microsoft.Extensions.AI;

namespace Gateway.Chat;

/// <summary>The fields of one <c>chat.completion.chunk</c> with a single choice: what a token's event carries.</summary>
internal readonly ref struct ChunkFields(
    string id, long created, string model, ServedBy? servedBy, string? role, string? content, string? finishReason, string? reasoning = null, IList<AIContent>? contentsWithCalls = null, string? refusal = null)
{
    public string Id { get; } = id;
    public long Created { get; } = created;
    public string Model { get; } = model;

    /// <summary>The upstream's <c>service_tier</c> and <c>system_fingerprint</c>, once it said them; null when it says neither.</summary>
    public ServedBy? ServedBy { get; } = servedBy;

    public string? Role { get; } = role;
    public string? Content { get; } = content;
    public string? FinishReason { get; } = finishReason;

    /// <summary>A reasoning model's thinking, as <c>reasoning_content</c> (DeepSeek's name, which clients of such models read).</summary>
    public string? Reasoning { get; } = reasoning;

    /// <summary>
    /// An update's contents (all of them: text and usage too), when they hold pieces of tool calls
    /// (<see cref="RawToolCall"/>), which are written as <c>tool_calls</c>; null when they hold none.
    /// </summary>
    public IList<AIContent>? ContentsWithCalls { get; } = contentsWithCalls;

    /// <summary>The model's refusal, or the next piece of it.</summary>
    public string? Refusal { get; } = refusal;
}

/// <summary>
/// Writes a token's <c>chat.completion.chunk</c> by hand, byte for byte what the serializer writes for
/// <see cref="ChatCompletionChunk"/> (same property order, nulls left out but <c>finish_reason</c>, and <c>usage</c>
/// when <see cref="WriteWithNullUsage"/> is asked for), without building the record graph or the serializer's state
/// for every token.
/// </summary>
internal static class ChunkJson
{
    public static void Write(Utf8JsonWriter writer, in ChunkFields chunk) => Write(writer, chunk, nullUsage: false);

    /// <summary>
    /// As <see cref="Write(Utf8JsonWriter, in ChunkFields)"/>, with <c>"usage":null</c>: what OpenAI writes on every chunk
    /// but the usage chunk when <c>stream_options.include_usage</c> is set, and what a client that tells the usage chunk
    /// by <c>chunk.usage !== null</c> reads (without it, <c>undefined</c> passed that test on the first chunk).
    /// </summary>
    public static void WriteWithNullUsage(Utf8JsonWriter writer, in ChunkFields chunk) => Write(writer, chunk, nullUsage: true);

    private static void Write(Utf8JsonWriter writer, in ChunkFields chunk, bool nullUsage)
    {
        writer.WriteStartObject();
        writer.WriteString("id"u8, chunk.Id);
        writer.WriteString("object"u8, "chat.completion.chunk"u8);
        writer.WriteNumber("created"u8, chunk.Created);
        writer.WriteString("model"u8, chunk.Model);
        if (chunk.ServedBy is { } servedBy)
        {
            WriteServedBy(writer, servedBy);
        }

        writer.WriteStartArray("choices"u8);
        writer.WriteStartObject();
        writer.WriteNumber("index"u8, 0);
        writer.WriteStartObject("delta"u8);
        if (chunk.Role is not null)
        {
            writer.WriteString("role"u8, chunk.Role);
        }

        if (chunk.Content is not null)
        {
            writer.WriteString("content"u8, chunk.Content);
        }

        if (chunk.Reasoning is not null)
        {
            writer.WriteString("reasoning_content"u8, chunk.Reasoning);
        }

        if (chunk.Refusal is not null)
        {
            writer.WriteString("refusal"u8, chunk.Refusal);
        }

        if (chunk.ContentsWithCalls is { } contents)
        {
            ToolJson.WriteCalls(writer, contents, indexed: true);
        }

        writer.WriteEndObject();
        if (chunk.FinishReason is null)
        {
            writer.WriteNull("finish_reason"u8);
        }
        else
        {
            writer.WriteString("finish_reason"u8, chunk.FinishReason);
        }

        writer.WriteEndObject();
        writer.WriteEndArray();
        if (nullUsage)
        {
            writer.WriteNull("usage"u8);
        }

        writer.WriteEndObject();
    }

    private static void WriteServedBy(Utf8JsonWriter writer, ServedBy servedBy)
    {
        if (servedBy.ServiceTier is { } serviceTier)
        {
            writer.WriteString("service_tier"u8, serviceTier);
        }

        if (servedBy.SystemFingerprint is { } systemFingerprint)
        {
            writer.WriteString("system_fingerprint"u8, systemFingerprint);
        }
    }
}
