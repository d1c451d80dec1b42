using System.Text.Json;

namespace Gateway.Chat;

/// <summary>
/// Finds text that does not decode in a member kept as raw JSON (<c>tool_choice</c>, a function's <c>parameters</c>,
/// the passed-on and unknown members). The deserializer decodes every typed string, and a lone surrogate there is a
/// 400; raw members are decoded only when a check reads them, and a lone surrogate (<c>\udc00</c>) or bytes that are
/// not UTF-8 threw there: a 500, or a 502 blamed on the provider when the request body was written.
/// </summary>
internal static class RawJsonText
{
    /// <summary>The JSON path of the first string or member name under <paramref name="element"/> that is not valid Unicode; null when all are.</summary>
    public static string? FirstInvalid(JsonElement element, string path)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.String:
                return Decodes(element) ? null : path;
            case JsonValueKind.Array:
                var index = 0;
                foreach (var item in element.EnumerateArray())
                {
                    if (FirstInvalid(item, $"{path}[{index}]") is { } found)
                    {
                        return found;
                    }

                    index++;
                }

                return null;
            case JsonValueKind.Object:
                foreach (var member in element.EnumerateObject())
                {
                    if (!NameDecodes(member))
                    {
                        return path;
                    }

                    if (FirstInvalid(member.Value, $"{path}.{member.Name}") is { } found)
                    {
                        return found;
                    }
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

    private static bool NameDecodes(JsonProperty member)
    {
        try
        {
            _ = member.Name;
            return true;
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }
}
