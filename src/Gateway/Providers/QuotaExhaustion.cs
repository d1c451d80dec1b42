using System.Net;
using System.Text.Json;
using Gateway.Resilience;

namespace Gateway.Providers;

/// <summary>
/// A 429 that is not a rate limit: OpenAI answers <c>insufficient_quota</c> when the account has run out of credit.
/// Waiting does not cure it, so it is not retried (three more refusals, and the backoff, for nothing) and the caller is
/// not told to come back later; the next deployment is tried, as for a refused key, and alone it is a 502. One rule
/// (<see cref="IsNamedIn"/>) decides it for the HTTP retry, which sees the response first (<see cref="InBody"/>), and
/// for the exception the adapter makes of it, from the error it parses anyway.
/// </summary>
internal static class QuotaExhaustion
{
    private const string Name = "insufficient_quota";

    /// <summary>How much of a 429's body is read to find out: OpenAI's is a few hundred bytes.</summary>
    private const int MaxBodyBytes = 64 * 1024;

    public static bool Of(UpstreamException exception) =>
        exception is { Failure: UpstreamFailure.Status, Status: HttpStatusCode.TooManyRequests, QuotaExhausted: true };

    /// <summary>Whether an error body names the exhausted quota, as its <c>code</c> or its <c>type</c> (OpenAI sends both).</summary>
    public static bool InBody(ReadOnlySpan<byte> body)
    {
        body = ByteOrderMark.Skip(body);
        if (body.IndexOf("insufficient_quota"u8) < 0)
        {
            return false; // the common 429, without a parse
        }

        try
        {
            var reader = new Utf8JsonReader(body);
            using var document = JsonDocument.ParseValue(ref reader);
            var root = document.RootElement;
            return IsNamedIn(root.ValueKind == JsonValueKind.Object && root.TryGetProperty("error", out var error) ? error : root);
        }
        catch (JsonException)
        {
            return false;
        }
    }

    /// <summary>
    /// Reads a 429's body (<see cref="ErrorBody"/>), for the HTTP retry to decide on before the adapter reads it:
    /// buffered, so the adapter still reads it whole. A body too long, too slow or broken is a rate limit's.
    /// </summary>
    public static async ValueTask<bool> IsReportedByAsync(HttpResponseMessage response, TimeProvider timeProvider, CancellationToken cancellationToken) =>
        await ErrorBody.TryBufferAsync(response, MaxBodyBytes, timeProvider, cancellationToken).ConfigureAwait(false)
        && InBody(await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false));

    /// <summary>Whether an error object (a body's <c>error</c>, or a flat body itself) names the quota as its code or type.</summary>
    public static bool IsNamedIn(JsonElement error) =>
        error.ValueKind == JsonValueKind.Object && (Names(error, "code") || Names(error, "type"));

    private static bool Names(JsonElement error, string member) =>
        error.TryGetProperty(member, out var value) && value.ValueKind == JsonValueKind.String && value.ValueEquals(Name);
}
