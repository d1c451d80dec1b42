using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Gateway.Providers;
using Microsoft.Extensions.AI;

namespace Gateway.Chat;

/// <summary>
/// Message <c>content</c>: a string, or an array of parts, <c>{"type":"text","text":...}</c> and, for a user message,
/// <c>{"type":"image_url","image_url":{...}}</c> (<see cref="ImagePartReader"/>), for an assistant message
/// <c>{"type":"refusal","refusal":...}</c> (OpenAI's form of an answer's refusal among its content).
/// </summary>
internal sealed class MessageContentConverter : JsonConverter<MessageContent?>
{
    public override bool HandleNull => true;

    public override MessageContent? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        switch (reader.TokenType)
        {
            case JsonTokenType.Null:
                return null;
            case JsonTokenType.String:
                return new(reader.GetString()!);
            case JsonTokenType.StartArray:
                var text = new StringBuilder();
                StringBuilder? refusal = null;
                List<AIContent> parts = [];
                var images = false;
                while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                {
                    var part = ReadPart(ref reader, parts.Count);
                    if (part is TextContent { Text: var partText })
                    {
                        text.Append(partText);
                    }
                    else if (part is RefusalContent { Text: var refused })
                    {
                        (refusal ??= new()).Append(refused);
                    }

                    images |= part is ImagePart;
                    parts.Add(part);
                }

                // As OpenAI: an empty list of parts is no content, not an empty text. Text alone is one string, as it was
                // sent on before images were taken, so that a provider's request does not change for it; a refusal goes on
                // as the assistant's refusal, as when the caller sends it as the message's member.
                return parts.Count > 0
                    ? new(text.ToString(), images ? parts : null, refusal?.ToString(), refusal is null ? null : parts.FindIndex(part => part is RefusalContent))
                    : throw new ChatRequestRefused("'content' is an empty array: give at least one text part, or a string.");
            default:
                throw new ChatRequestRefused("'content' must be a string or an array of text, image_url and refusal parts.");
        }
    }

    private static AIContent ReadPart(ref Utf8JsonReader reader, int index)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            throw new ChatRequestRefused("Each content part must be an object.");
        }

        var start = reader; // read again, whole, if it is an image
        string? type = null;
        string? text = null;
        string? refusal = null;
        string? imageProblem = ImagePartReader.NeedsUrl;
        var lowDetail = false;
        var (sawType, sawText, sawImage, sawRefusal) = (false, false, false, false);
        while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
        {
            var property = reader.GetString();
            reader.Read();
            switch (property)
            {
                // Named twice, a member would mean what its last copy says: refused, as in the rest of the request.
                case "type" or "text" or "image_url" or "refusal"
                    when property switch { "type" => sawType, "text" => sawText, "image_url" => sawImage, _ => sawRefusal }:
                    throw new ChatRequestRefused($"A content part names '{property}' more than once.");
                case "type":
                    sawType = true;
                    type = reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
                    BufferedValue.Skip(ref reader); // past an object or array given instead; a string's token is its whole value
                    break;
                case "text":
                    sawText = true;
                    text = reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
                    BufferedValue.Skip(ref reader);
                    break;
                case "refusal":
                    sawRefusal = true;
                    refusal = reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
                    BufferedValue.Skip(ref reader);
                    break;
                case "image_url":
                    sawImage = true;
                    imageProblem = ImagePartReader.Problem(ref reader, out lowDetail);
                    break;
                default:
                    BufferedValue.Skip(ref reader);
                    break;
            }
        }

        return type switch
        {
            "text" => new TextContent(text ?? throw new ChatRequestRefused("A text content part needs its 'text' as a string.")),
            "image_url" when imageProblem is not null => throw new ChatRequestRefused(imageProblem, index),
            "image_url" => ImagePartReader.Read(ref start, lowDetail, index),
            "refusal" => new RefusalContent(refusal ?? throw new ChatRequestRefused("A refusal content part needs its 'refusal' as a string.")),
            _ => throw new ChatRequestRefused($"Only text, image_url and refusal content parts are supported (got type '{type}')."),
        };
    }

    public override void Write(Utf8JsonWriter writer, MessageContent? value, JsonSerializerOptions options) =>
        writer.WriteStringValue(value?.Text);
}

/// <summary>
/// Past the value the reader is on, inside a converter's own value. <see cref="Utf8JsonReader.Skip"/> throws on a reader
/// given part of the body (a request past the serializer's 16 KiB buffer, with more to come), even on a string's token,
/// and the serializer answered that as a wrong type: a request with content parts and 16 KiB after them was a 400. The
/// serializer reads a converter's whole value ahead, so <see cref="Utf8JsonReader.TrySkip"/> always can.
/// </summary>
internal static class BufferedValue
{
    public static void Skip(ref Utf8JsonReader reader)
    {
        if (!reader.TrySkip())
        {
            throw new JsonException("The request body ended inside a value.");
        }
    }
}

/// <summary><c>stop</c>: a single string or an array of strings.</summary>
internal sealed class StopSequencesConverter : JsonConverter<List<string>?>
{
    public override List<string>? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        switch (reader.TokenType)
        {
            case JsonTokenType.String:
                return [reader.GetString()!];
            case JsonTokenType.StartArray:
                var list = new List<string>();
                while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                {
                    if (reader.TokenType != JsonTokenType.String)
                    {
                        throw new ChatRequestRefused("'stop' must be a string or an array of strings.");
                    }

                    list.Add(reader.GetString()!);
                }

                return list;
            default:
                throw new ChatRequestRefused("'stop' must be a string or an array of strings.");
        }
    }

    public override void Write(Utf8JsonWriter writer, List<string>? value, JsonSerializerOptions options)
    {
        writer.WriteStartArray();
        foreach (var item in value ?? [])
        {
            writer.WriteStringValue(item);
        }

        writer.WriteEndArray();
    }
}

/// <summary>
/// A request our converters refuse, in words meant for the caller: the JSON is valid, the value is not one the
/// gateway takes (an audio part, say). The serializer passes it on with the path where it was thrown, the member its
/// converter reads; <paramref name="item"/> names the item of that member's array it is about.
/// </summary>
internal sealed class ChatRequestRefused(string message, int? item = null) : JsonException(message)
{
    public int? Item => item;
}
