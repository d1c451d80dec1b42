using System.Text.Json;
using Microsoft.Extensions.AI;

namespace Gateway.Providers.OpenAI;

/// <summary>
/// Turns one <c>chat.completion.chunk</c> payload into a <see cref="ChatResponseUpdate"/> with a
/// <see cref="Utf8JsonReader"/>, mapping what the SDK's streaming update would have carried but without the SDK's
/// per-chunk document, model objects and copies. Only the first choice is read, as the SDK's
/// update exposes only that one. A payload that is not a well-formed chunk throws <see cref="JsonException"/>,
/// reported like the SDK's own parse failures. One instance per stream: the id and model strings, the same on
/// every chunk, are kept and reused instead of allocated per token.
/// </summary>
internal sealed class StreamingChunkReader
{
    private string? _id;
    private string? _model;

    /// <summary>The update for a <c>data:</c> payload, or null for <c>[DONE]</c>.</summary>
    public ChatResponseUpdate? Parse(string eventType, ReadOnlySpan<byte> data)
    {
        if (data.SequenceEqual("[DONE]"u8))
        {
            return null;
        }

        var reader = new Utf8JsonReader(data);
        Expect(ref reader, JsonTokenType.StartObject);
        var update = new ChatResponseUpdate { Contents = new List<AIContent>(1) };
        while (NextProperty(ref reader))
        {
            if (reader.ValueTextEquals("id"u8))
            {
                reader.Read();
                update.ResponseId = _id = ReusedString(ref reader, _id);
            }
            else if (reader.ValueTextEquals("model"u8))
            {
                reader.Read();
                update.ModelId = _model = ReusedString(ref reader, _model);
            }
            else if (reader.ValueTextEquals("created"u8))
            {
                reader.Read();
                if (reader.TokenType != JsonTokenType.Null && reader.GetInt64() is var seconds and not 0)
                {
                    update.CreatedAt = DateTimeOffset.FromUnixTimeSeconds(seconds);
                }
            }
            else if (reader.ValueTextEquals("choices"u8))
            {
                reader.Read();
                ReadChoices(ref reader, update);
            }
            else if (reader.ValueTextEquals("usage"u8))
            {
                reader.Read();
                if (reader.TokenType != JsonTokenType.Null)
                {
                    update.Contents.Add(new UsageContent(ReadUsage(ref reader)));
                }
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }

        return update;
    }

    private static void ReadChoices(ref Utf8JsonReader reader, ChatResponseUpdate update)
    {
        if (reader.TokenType == JsonTokenType.Null)
        {
            return;
        }

        Expect(ref reader, JsonTokenType.StartArray, read: false);
        var first = true;
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            if (!first)
            {
                reader.Skip();
                continue;
            }

            first = false;
            Expect(ref reader, JsonTokenType.StartObject, read: false);
            while (NextProperty(ref reader))
            {
                if (reader.ValueTextEquals("delta"u8))
                {
                    reader.Read();
                    ReadDelta(ref reader, update);
                }
                else if (reader.ValueTextEquals("finish_reason"u8))
                {
                    reader.Read();
                    if (reader.TokenType != JsonTokenType.Null)
                    {
                        update.FinishReason = ToFinishReason(ref reader);
                    }
                }
                else
                {
                    reader.Read();
                    reader.Skip();
                }
            }
        }
    }

    private static void ReadDelta(ref Utf8JsonReader reader, ChatResponseUpdate update)
    {
        if (reader.TokenType == JsonTokenType.Null)
        {
            return;
        }

        Expect(ref reader, JsonTokenType.StartObject, read: false);
        while (NextProperty(ref reader))
        {
            if (reader.ValueTextEquals("content"u8))
            {
                reader.Read();
                if (reader.TokenType != JsonTokenType.Null && reader.GetString() is { Length: > 0 } text)
                {
                    update.Contents.Insert(0, new TextContent(text));
                }
            }
            else if (reader.ValueTextEquals("role"u8))
            {
                reader.Read();
                if (reader.TokenType != JsonTokenType.Null)
                {
                    update.Role = ToRole(ref reader);
                }
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }
    }

    private static UsageDetails ReadUsage(ref Utf8JsonReader reader)
    {
        Expect(ref reader, JsonTokenType.StartObject, read: false);
        var usage = new UsageDetails();
        while (NextProperty(ref reader))
        {
            if (reader.ValueTextEquals("prompt_tokens"u8))
            {
                reader.Read();
                usage.InputTokenCount = reader.GetInt64();
            }
            else if (reader.ValueTextEquals("completion_tokens"u8))
            {
                reader.Read();
                usage.OutputTokenCount = reader.GetInt64();
            }
            else if (reader.ValueTextEquals("total_tokens"u8))
            {
                reader.Read();
                usage.TotalTokenCount = reader.GetInt64();
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }

        return usage;
    }

    /// <summary>The same mapping as <see cref="OpenAiResponseMapper.ToFinishReason"/>; odd values were mapped upstream of here.</summary>
    private static ChatFinishReason ToFinishReason(ref Utf8JsonReader reader) =>
        reader.ValueTextEquals("length"u8) ? ChatFinishReason.Length
        : reader.ValueTextEquals("content_filter"u8) ? ChatFinishReason.ContentFilter
        : reader.ValueTextEquals("tool_calls"u8) || reader.ValueTextEquals("function_call"u8) ? ChatFinishReason.ToolCalls
        : ChatFinishReason.Stop;

    private static ChatRole ToRole(ref Utf8JsonReader reader) =>
        reader.ValueTextEquals("system"u8) ? ChatRole.System
        : reader.ValueTextEquals("user"u8) ? ChatRole.User
        : reader.ValueTextEquals("tool"u8) ? ChatRole.Tool
        : ChatRole.Assistant;

    private static string? ReusedString(ref Utf8JsonReader reader, string? previous) =>
        reader.TokenType == JsonTokenType.Null ? null
        : previous is not null && reader.ValueTextEquals(previous) ? previous
        : reader.GetString();

    /// <summary>Moves to the next property name of the current object; false at its end.</summary>
    private static bool NextProperty(ref Utf8JsonReader reader)
    {
        reader.Read();
        return reader.TokenType == JsonTokenType.PropertyName;
    }

    private static void Expect(ref Utf8JsonReader reader, JsonTokenType type, bool read = true)
    {
        if ((read && !reader.Read()) || reader.TokenType != type)
        {
            throw new JsonException($"Expected {type} in a chat.completion.chunk, found {reader.TokenType}.");
        }
    }
}
