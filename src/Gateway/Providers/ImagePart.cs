using System.Buffers;
using System.Runtime.InteropServices;
using System.Text.Json;
using Microsoft.Extensions.AI;

namespace Gateway.Providers;

/// <summary>
/// An image a user message shows the model: OpenAI's <c>image_url</c> content part, kept as the caller wrote it (its
/// UTF-8 JSON), so that an OpenAI-compatible provider gets it byte for byte. A data URL is not taken apart into the
/// abstraction's <see cref="DataContent"/>, nor a link made a <see cref="Uri"/>, which cannot hold a data URL past
/// ~65,519 characters.
/// </summary>
internal sealed class ImagePart(JsonElement json, bool lowDetail) : AIContent
{
    /// <summary>OpenAI's price of an image at <c>detail: low</c>, whatever its size.</summary>
    public const int LowDetailTokens = 85;

    /// <summary>OpenAI's price of a 512x512 image at high detail (85 plus one 170-token tile), for any other <c>detail</c>.</summary>
    public const int Tokens = 765;

    /// <summary>The part, <c>{"type":"image_url","image_url":{...}}</c>, as the caller wrote it.</summary>
    public ReadOnlySpan<byte> Json => JsonMarshal.GetRawUtf8Value(json);

    /// <summary>
    /// What the image is reckoned at before the provider counts it: a fixed price, not its URL's characters (a
    /// 1 MB data URL read as text would take a key's whole token budget).
    /// </summary>
    public int EstimatedTokens => lowDetail ? LowDetailTokens : Tokens;

    /// <summary>
    /// Whether the image is a link (<c>https:</c>, <c>http:</c>) for the model's server to fetch, not a data URL. Read
    /// from the part only when asked (<see cref="ProviderOptions.ImageLinks"/>); the reader refused a part whose
    /// <c>url</c> is not a string or is given twice.
    /// </summary>
    public bool IsLink => !json.GetProperty("image_url"u8).GetProperty("url"u8).GetString()!.StartsWith("data:", StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// Where the first image that <paramref name="matches"/> is among <paramref name="messages"/>, as the request names
    /// it (<c>messages[1].content[0]</c>); null when none does.
    /// </summary>
    public static string? FirstPlace(IReadOnlyList<ChatMessage> messages, Func<ImagePart, bool> matches)
    {
        for (var m = 0; m < messages.Count; m++)
        {
            var contents = messages[m].Contents;
            for (var c = 0; c < contents.Count; c++)
            {
                if (contents[c] is ImagePart image && matches(image))
                {
                    return $"messages[{m}].content[{c}]";
                }
            }
        }

        return null;
    }

    /// <summary>Whether <paramref name="contents"/> hold an image; indexed, as this runs for every message sent on.</summary>
    public static bool AnyIn(IList<AIContent> contents)
    {
        for (var i = 0; i < contents.Count; i++)
        {
            if (contents[i] is ImagePart)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// A message's <c>content</c> as OpenAI takes parts, in their order: its text as <c>{"type":"text","text":...}</c>,
    /// each image as the caller wrote it.
    /// </summary>
    public static void WriteContent(Utf8JsonWriter writer, IList<AIContent> contents)
    {
        writer.WriteStartArray();
        for (var i = 0; i < contents.Count; i++)
        {
            switch (contents[i])
            {
                case TextContent text:
                    writer.WriteStartObject();
                    writer.WriteString("type"u8, "text"u8);
                    writer.WriteString("text"u8, text.Text);
                    writer.WriteEndObject();
                    break;
                case ImagePart image:
                    writer.WriteRawValue(image.Json, skipInputValidation: true); // read as JSON with the request
                    break;
            }
        }

        writer.WriteEndArray();
    }

    /// <summary>The same <c>content</c> as JSON on its own, for the SDK's JSON patch.</summary>
    public static BinaryData ContentJson(IList<AIContent> contents)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            WriteContent(writer, contents);
        }

        return new BinaryData(buffer.WrittenMemory);
    }
}
