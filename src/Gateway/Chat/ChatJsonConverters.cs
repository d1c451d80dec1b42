using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Gateway.Chat;

/// <summary>Message <c>content</c>: a string, or an array of <c>{"type":"text","text":...}</c> parts.</summary>
internal sealed class MessageContentConverter : JsonConverter<string?>
{
    public override bool HandleNull => true;

    public override string? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        switch (reader.TokenType)
        {
            case JsonTokenType.Null:
                return null;
            case JsonTokenType.String:
                return reader.GetString();
            case JsonTokenType.StartArray:
                var text = new StringBuilder();
                var parts = 0;
                while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                {
                    text.Append(ReadPart(ref reader));
                    parts++;
                }

                // As OpenAI: an empty list of parts is no content, not an empty text.
                return parts > 0 ? text.ToString() : throw new ChatRequestRefused("'content' is an empty array: give at least one text part, or a string.");
            default:
                throw new ChatRequestRefused("'content' must be a string or an array of text parts.");
        }
    }

    private static string ReadPart(ref Utf8JsonReader reader)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            throw new ChatRequestRefused("Each content part must be an object.");
        }

        string? type = null;
        string? text = null;
        var (sawType, sawText) = (false, false);
        while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
        {
            var property = reader.GetString();
            reader.Read();
            switch (property)
            {
                // Named twice, a member would mean what its last copy says: refused, as in the rest of the request.
                case "type" or "text" when property == "type" ? sawType : sawText:
                    throw new ChatRequestRefused($"A content part names '{property}' more than once.");
                case "type":
                    sawType = true;
                    type = reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
                    reader.Skip(); // past an object or array given instead; a string's token is its whole value
                    break;
                case "text":
                    sawText = true;
                    text = reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
                    reader.Skip();
                    break;
                default:
                    reader.Skip();
                    break;
            }
        }

        if (type != "text")
        {
            throw new ChatRequestRefused($"Only text content parts are supported (got type '{type}').");
        }

        return text ?? throw new ChatRequestRefused("A text content part needs its 'text' as a string.");
    }

    public override void Write(Utf8JsonWriter writer, string? value, JsonSerializerOptions options) =>
        writer.WriteStringValue(value);
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
/// gateway takes (an image part, say). The serializer passes it on with the path where it was thrown.
/// </summary>
internal sealed class ChatRequestRefused(string message) : JsonException(message);
