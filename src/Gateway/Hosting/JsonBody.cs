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

    /// <summary>Whether the reader refused valid JSON for nesting deeper than <see cref="LimitsOptions.MaxJsonDepth"/>.</summary>
    public static bool NestsTooDeep(JsonException exception) => exception.Message.Contains("The maximum configured depth of ", StringComparison.Ordinal);

    /// <summary>
    /// What a caller is told of a body whose framing Kestrel could not read and reported as a plain
    /// <see cref="IOException"/> rather than as its <see cref="BadHttpRequestException"/>: a chunk size past 2^31
    /// ("Bad chunk size data.", with an overflow inside). Until 2026-12-06 such a body was a 500 and a logged stack trace.
    /// </summary>
    public static string UnreadableBody(IOException exception) => $"The request body could not be read: {exception.Message}";

    /// <summary>
    /// Whether reading the body failed on what the caller sent (<see cref="UnreadableBody"/>): not a caller who left
    /// (a reset reaches the read before the request's abort token), and not Kestrel's own
    /// <see cref="BadHttpRequestException"/>, which keeps its status (a 413 for a body too large).
    /// </summary>
    public static bool IsUnreadable(IOException exception, CancellationToken requestAborted) =>
        exception is not (BadHttpRequestException or Microsoft.AspNetCore.Connections.ConnectionResetException)
        && !requestAborted.IsCancellationRequested;

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
            return JsonText.BrokenTextBelow(document.RootElement) is { } path
                ? new JsonBodyResult(default, ApiProblems.BadRequest($"The request body is not valid JSON: the text at ${path} is not valid Unicode (invalid UTF-8, or a lone surrogate such as \\udc00)."))
                : new JsonBodyResult(document.RootElement.Clone(), null);
        }
        catch (JsonException exception) when (NestsTooDeep(exception))
        {
            // Valid JSON, nested past the limit: as /v1 says it, not "not valid JSON".
            return new JsonBodyResult(default, ApiProblems.BadRequest(
                $"The request body nests past the maximum depth of {LimitsOptions.MaxJsonDepth} levels{(exception.LineNumber is { } line ? $" (line {line + 1}, byte {exception.BytePositionInLine + 1})" : "")}."));
        }
        catch (JsonException exception)
        {
            return new JsonBodyResult(default, ApiProblems.BadRequest($"The request body is not valid JSON: {exception.Message}"));
        }
        catch (IOException exception) when (IsUnreadable(exception, request.HttpContext.RequestAborted))
        {
            return new JsonBodyResult(default, ApiProblems.BadRequest(UnreadableBody(exception)));
        }
        catch (InvalidOperationException)
        {
            // The duplicate-key check decodes property names while parsing, and throws this on one that is not text.
            return new JsonBodyResult(default, ApiProblems.BadRequest("The request body is not valid JSON: a property name is not valid Unicode (invalid UTF-8, or a lone surrogate such as \\udc00)."));
        }
    }
}
