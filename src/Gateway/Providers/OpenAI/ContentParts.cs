using System.Text.Json;

namespace Gateway.Providers.OpenAI;

/// <summary>
/// A message's <c>content</c> written as a list of parts instead of a string, as Mistral's reasoning models (Magistral)
/// write every streamed delta and whole answer: <c>[{"type":"thinking","thinking":[{"type":"text","text":…}]}]</c> while
/// the model thinks, then <c>[{"type":"text","text":…}]</c>. Read as a string, it failed the answer before its first
/// token, and it was asked for (and paid for) again on each retry. Text parts are the answer's text and thinking parts
/// its thinking, each through the reader that joins a character cut between chunks (or parts).
/// </summary>
internal static class ContentParts
{
    /// <summary>
    /// Reads the list the reader is on: the text of its text parts and of its thinking parts, each joined, or null where
    /// there was none. A part of another type (Mistral's <c>reference</c>, an image) carries no text to pass on, and is
    /// skipped as the reader skips any member it does not know; so is a part of a shape it does not know.
    /// </summary>
    public static (string? Text, string? Thinking) Read(ref Utf8JsonReader reader, SplitSurrogates text, SplitSurrogates thinking)
    {
        string? texts = null, thoughts = null;
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            if (reader.TokenType != JsonTokenType.StartObject)
            {
                reader.Skip();
                continue;
            }

            // The type may come after the text: each value is kept where it starts, and read once the part is known.
            var kind = Kind.Unknown;
            Utf8JsonReader textAt = default, thinkingAt = default;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("type"u8))
                {
                    reader.Read();
                    kind = reader.TokenType != JsonTokenType.String ? Kind.Unknown
                        : reader.ValueTextEquals("text"u8) ? Kind.Text
                        : reader.ValueTextEquals("thinking"u8) ? Kind.Thinking
                        : Kind.Unknown;
                }
                else if (reader.ValueTextEquals("text"u8))
                {
                    reader.Read();
                    textAt = reader;
                }
                else if (reader.ValueTextEquals("thinking"u8))
                {
                    reader.Read();
                    thinkingAt = reader;
                }
                else
                {
                    reader.Read();
                }

                reader.Skip();
            }

            if (kind == Kind.Text && textAt.TokenType == JsonTokenType.String)
            {
                texts += text.Read(ref textAt);
            }
            else if (kind == Kind.Thinking)
            {
                thoughts = Thinking(ref thinkingAt, thinking, thoughts);
            }
        }

        return (texts, thoughts);
    }

    /// <summary>
    /// A whole answer's edits for the SDK (<see cref="ChunkInspector"/>): each choice's <c>message.content</c> that is a
    /// list becomes the string of its text (null when it has no text part), and its thinking <c>reasoning_content</c>
    /// beside it, where a whole answer's thinking is read (<see cref="OpenAiChatClient"/>). The SDK refused a thinking
    /// part, a type it does not know, and the answer was asked for (and paid for) again. None for a document that is not
    /// well-formed, which the SDK reports itself.
    /// </summary>
    public static List<(int Start, int Length, string Replacement)>? InWholeAnswer(ReadOnlySpan<byte> payload)
    {
        var reader = new Utf8JsonReader(payload);
        var edits = default(List<(int, int, string)>);
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return null;
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var isChoices = reader.ValueTextEquals("choices"u8);
                reader.Read();
                if (isChoices && reader.TokenType == JsonTokenType.StartArray)
                {
                    while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                    {
                        InChoice(ref reader, ref edits);
                    }
                }
                else
                {
                    reader.Skip();
                }
            }
        }
        catch (JsonException)
        {
            return null;
        }

        return edits;
    }

    private static void InChoice(ref Utf8JsonReader reader, ref List<(int Start, int Length, string Replacement)>? edits)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            reader.Skip();
            return;
        }

        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var isMessage = reader.ValueTextEquals("message"u8);
            reader.Read();
            if (isMessage && reader.TokenType == JsonTokenType.StartObject)
            {
                InMessage(ref reader, ref edits);
            }
            else
            {
                reader.Skip();
            }
        }
    }

    private static void InMessage(ref Utf8JsonReader reader, ref List<(int Start, int Length, string Replacement)>? edits)
    {
        var list = default((int Start, int Length, string? Text, string? Thinking)?);
        var hasReasoningContent = false;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var isContent = reader.ValueTextEquals("content"u8);
            hasReasoningContent |= reader.ValueTextEquals("reasoning_content"u8);
            reader.Read();
            if (isContent && reader.TokenType == JsonTokenType.StartArray)
            {
                var start = (int)reader.TokenStartIndex;
                SplitSurrogates text = new(), thinking = new();
                var (said, thought) = Read(ref reader, text, thinking);
                list = (start, (int)reader.BytesConsumed - start, said + text.Flush(), thought + thinking.Flush());
            }
            else
            {
                reader.Skip();
            }
        }

        if (list is { } parts)
        {
            // A message that has its own (a duplicate name would be refused) keeps it as its thinking.
            var replacement = parts.Text is { Length: > 0 } answer ? JsonSerializer.Serialize(answer) : "null";
            if (parts.Thinking is { Length: > 0 } thoughts && !hasReasoningContent)
            {
                replacement += ",\"reasoning_content\":" + JsonSerializer.Serialize(thoughts);
            }

            (edits ??= []).Add((parts.Start, parts.Length, replacement));
        }
    }

    /// <summary>A thinking part's <c>thinking</c>: a list of text parts (Mistral's), or a string.</summary>
    private static string? Thinking(ref Utf8JsonReader reader, SplitSurrogates thinking, string? thoughts)
    {
        switch (reader.TokenType)
        {
            case JsonTokenType.String:
                return thoughts + thinking.Read(ref reader);
            case JsonTokenType.StartArray:
                var (said, nested) = Read(ref reader, thinking, thinking);
                return said is null && nested is null ? thoughts : thoughts + said + nested;
            default:
                return thoughts;
        }
    }

    private enum Kind
    {
        Unknown,
        Text,
        Thinking,
    }
}
