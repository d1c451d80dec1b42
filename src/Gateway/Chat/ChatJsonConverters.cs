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
                while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                {
                    text.Append(ReadPart(ref reader));
                }

                return text.ToString();
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
        while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
        {
            var property = reader.GetString();
            reader.Read();
            switch (property)
            {
                case "type" when reader.TokenType == JsonTokenType.String:
                    type = reader.GetString();
                    break;
                case "text" when reader.TokenType == JsonTokenType.String:
                    text = reader.GetString();
                    break;
                default:
                    reader.Skip();
                    break;
            }
        }

        if (type != "text" || text is null)
        {
            throw new ChatRequestRefused($"Only text content parts are supported (got type '{type}').");
        }

        return text;
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
