using System.Text.Json;
using Gateway.Security;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Gateway.Hosting;

/// <summary>A request body read as JSON, or the ProblemDetails that explains why it could not be.</summary>
internal readonly record struct JsonBodyResult(JsonElement Value, ProblemHttpResult? Problem);

/// <summary>
/// Reads /api request bodies as a JSON document rather than binding them to a type, so that validation can
/// report every wrong field by path instead of stopping at the first one the serializer trips on.
/// </summary>
internal static class JsonBody
{
    // The same depth limit as /v1's serializer, so both surfaces refuse the same nesting.
    private static readonly JsonDocumentOptions Options = new() { AllowDuplicateProperties = false, MaxDepth = LimitsOptions.MaxJsonDepth };

    /// <param name="request">The request.</param>
    /// <param name="emptyAs">The value of a request without a body; null when a body is required.</param>
    public static async Task<JsonBodyResult> ReadAsync(HttpRequest request, JsonElement? emptyAs = null)
    {
        var hasBody = request.HttpContext.Features.Get<IHttpRequestBodyDetectionFeature>()?.CanHaveBody ?? true;
        if (!hasBody || request.ContentLength == 0)
        {
            return emptyAs is { } empty
                ? new JsonBodyResult(empty, null)
                : new JsonBodyResult(default, ApiProblems.BadRequest("The request needs a JSON body."));
        }

        if (!request.HasJsonContentType())
        {
            return new JsonBodyResult(default, TypedResults.Problem(
                "The request body must be JSON (Content-Type: application/json).",
                statusCode: StatusCodes.Status415UnsupportedMediaType,
                title: "Unsupported Media Type"));
        }

        if (RequestBodyEncoding.Unsupported(request) is { } unreadable)
        {
            return new JsonBodyResult(default, TypedResults.Problem(unreadable, statusCode: StatusCodes.Status415UnsupportedMediaType, title: "Unsupported Media Type"));
        }

        try
        {
            using var document = await JsonDocument.ParseAsync(request.Body, Options, request.HttpContext.RequestAborted);
            return BrokenTextBelow(document.RootElement) is { } path
                ? new JsonBodyResult(default, ApiProblems.BadRequest($"The request body is not valid JSON: the text at ${path} is not valid Unicode (invalid UTF-8, or a lone surrogate such as \\udc00)."))
                : new JsonBodyResult(document.RootElement.Clone(), null);
        }
        catch (JsonException exception)
        {
            return new JsonBodyResult(default, ApiProblems.BadRequest($"The request body is not valid JSON: {exception.Message}"));
        }
        catch (InvalidOperationException)
        {
            // The duplicate-key check decodes property names while parsing, and throws this on one that is not text.
            return new JsonBodyResult(default, ApiProblems.BadRequest("The request body is not valid JSON: a property name is not valid Unicode (invalid UTF-8, or a lone surrogate such as \\udc00)."));
        }
    }

    /// <summary>
    /// The path below <paramref name="element"/> to its first string or property name that does not decode to text
    /// ("" for itself), or null. The parser does not decode strings, so without this check the first validator to read
    /// one would throw, and the caller would get a 500 for what a browser's <c>JSON.stringify</c> sends for half an
    /// emoji. The path is built only for the broken text, from the inside out: built on the way down, a long key over a
    /// wide array cost a copy per item.
    /// </summary>
    private static string? BrokenTextBelow(JsonElement element)
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
