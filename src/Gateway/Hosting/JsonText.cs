using System.Text.Json;

namespace Gateway.Hosting;

/// <summary>Text in a parsed JSON document that does not decode: a lone surrogate (<c>\udc00</c>), or bytes that are not UTF-8.</summary>
internal static class JsonText
{
    /// <summary>
    /// The path below <paramref name="element"/> to its first string or property name that does not decode to text
    /// ("" for itself), or null. The parser does not decode strings, so without this check the first validator to read
    /// one would throw, and the caller would get a 500 for what a browser's <c>JSON.stringify</c> sends for half an
    /// emoji. Used for /api bodies, and for the /v1 members kept as raw JSON, whose strings the serializer leaves
    /// undecoded. The path is built only for the broken text, from the inside out: built on the way down, a long key
    /// over a wide array cost a copy per item.
    /// </summary>
    public static string? BrokenTextBelow(JsonElement element)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.String when !Decodes(element):
                return "";
            case JsonValueKind.Object:
                foreach (var property in element.EnumerateObject())
                {
                    if (!Decodes(property))
                    {
                        return "";
                    }

                    if (BrokenTextBelow(property.Value) is { } below)
                    {
                        return $".{property.Name}{below}";
                    }
                }

                return null;
            case JsonValueKind.Array:
                var index = 0;
                foreach (var item in element.EnumerateArray())
                {
                    if (BrokenTextBelow(item) is { } below)
                    {
                        return $"[{index}]{below}";
                    }

                    index++;
                }

                return null;
            default:
                return null;
        }
    }

    private static bool Decodes(JsonElement text)
    {
        try
        {
            _ = text.GetString();
            return true;
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }

    private static bool Decodes(JsonProperty property)
    {
        try
        {
            _ = property.Name;
            return true;
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }
}
