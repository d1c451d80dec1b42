using System.Text.Json;
using Gateway.Hosting;
using Gateway.Providers;

namespace Gateway.Chat;

/// <summary>
/// Reads an <c>image_url</c> content part (<see cref="ImagePart"/>) as OpenAI takes it: <c>image_url.url</c> a link
/// (<c>https:</c>, <c>http:</c>) or a <c>data:image/...;base64,...</c> URL, <c>image_url.detail</c>, if given,
/// <c>auto</c>, <c>low</c> or <c>high</c>. Whether the message may carry one is the validator's to say (its role).
/// </summary>
internal static class ImagePartReader
{
    /// <summary>What is wrong with the part's <c>image_url</c> member, read past it; null when it is fine.</summary>
    public static string? Problem(ref Utf8JsonReader reader, out bool lowDetail)
    {
        lowDetail = false;
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            BufferedValue.Skip(ref reader);
            return NeedsUrl;
        }

        string? problem = null;
        var (sawUrl, sawDetail) = (false, false);
        while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
        {
            var property = reader.GetString();
            reader.Read();
            switch (property)
            {
                case "url" or "detail" when property == "url" ? sawUrl : sawDetail:
                    problem ??= $"An image part names 'image_url.{property}' more than once.";
                    break;
                case "url":
                    sawUrl = true;
                    var url = reader.TokenType == JsonTokenType.String ? reader.GetString()! : "";
                    problem ??= url.Length == 0 ? NeedsUrl
                        : IsImageUrl(url) ? null
                        : "An image part's 'image_url.url' must be an https: or http: URL, or a data:image/...;base64,... URL.";
                    break;
                case "detail":
                    sawDetail = true;
                    lowDetail = reader.TokenType == JsonTokenType.String && reader.ValueTextEquals("low"u8);
                    problem ??= reader.TokenType == JsonTokenType.String
                        && (lowDetail || reader.ValueTextEquals("auto"u8) || reader.ValueTextEquals("high"u8))
                        ? null
                        : "An image part's 'image_url.detail' must be \"auto\", \"low\" or \"high\" (or left out).";
                    break;
            }

            BufferedValue.Skip(ref reader); // past an object or array given instead; a string's token is its whole value
        }

        return problem ?? (sawUrl ? null : NeedsUrl);
    }

    /// <summary>The part whose first token <paramref name="start"/> is on, as the caller wrote it.</summary>
    public static ImagePart Read(ref Utf8JsonReader start, bool lowDetail, int index)
    {
        var json = JsonElement.ParseValue(ref start);

        // The gateway reads no more of it than its url and detail, and sends it on undecoded: text in it that does not
        // decode would reach the provider as it came.
        if (JsonText.BrokenTextBelow(json) is { } broken)
        {
            throw new ChatRequestRefused(
                $"An image part's text is not valid Unicode (invalid UTF-8, or a lone surrogate such as \\udc00){(broken.Length > 1 ? $", at '{broken[1..]}'" : "")}.", index);
        }

        return new ImagePart(json, lowDetail);
    }

    public const string NeedsUrl = "An image part needs 'image_url' as an object with a non-empty 'url' string.";

    private static bool IsImageUrl(string url) =>
        HasScheme(url, "https://") || HasScheme(url, "http://") || IsImageDataUrl(url);

    private static bool HasScheme(string url, string scheme) =>
        url.Length > scheme.Length && url.StartsWith(scheme, StringComparison.OrdinalIgnoreCase);

    // data:image/png;base64,iVBOR...: an image type, base64, something after the comma.
    private static bool IsImageDataUrl(string url)
    {
        const string Prefix = "data:image/";
        const string Base64 = ";base64";
        var comma = url.IndexOf(',', StringComparison.Ordinal);
        return url.StartsWith(Prefix, StringComparison.OrdinalIgnoreCase)
            && comma > Prefix.Length + Base64.Length
            && comma < url.Length - 1
            && url.AsSpan(0, comma).EndsWith(Base64, StringComparison.OrdinalIgnoreCase);
    }
}
