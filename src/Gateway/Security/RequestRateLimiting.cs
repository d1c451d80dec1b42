using Gateway.Hosting;
using Microsoft.AspNetCore.RateLimiting;

namespace Gateway.Security;

/// <summary>
/// Each key's <c>RequestsPerMinute</c>: one bucket per key name in <see cref="IRateBuckets"/> (shared by every replica
/// on PostgreSQL), refilled continuously. Callers without a limit (and the anonymous caller) are not counted, nor
/// are requests to endpoints marked <c>DisableRateLimiting()</c> (the probes, and re-attaching to or cancelling a run).
/// </summary>
internal sealed class RequestRateLimiting(RequestDelegate next, ApiKeyStore keys, IRateBuckets buckets)
{
    /// <summary>The code of every 429 for a key's own limits (requests or tokens per minute), on every surface.</summary>
    public const string LimitExceededCode = "rate_limit_exceeded";

    private static readonly TimeSpan Window = TimeSpan.FromMinutes(1);

    public async Task InvokeAsync(HttpContext http)
    {
        if (http.User.Identity is { IsAuthenticated: true, Name: { } name }
            && http.GetEndpoint()?.Metadata.GetMetadata<DisableRateLimitingAttribute>() is null
            && keys.Get(name) is { RequestsPerMinute: { } perMinute } key
            && (await buckets.TryTakeAsync(key.RequestsBucket, perMinute, Window, 1, http.RequestAborted)).RetryAfter is { } retryAfter)
        {
            await WriteTooManyAsync(http, retryAfter, "Request rate limit reached for this API key.", "requests");
            return;
        }

        await next(http);
    }

    /// <summary>429 with <c>Retry-After</c> in whole seconds, in the error shape of the surface called.</summary>
    public static Task WriteTooManyAsync(HttpContext http, TimeSpan retryAfter, string message, string limit)
    {
        http.Response.StatusCode = StatusCodes.Status429TooManyRequests;
        var seconds = http.Response.SetRetryAfter(retryAfter);
        return http.WriteErrorAsync(
            StatusCodes.Status429TooManyRequests, $"{message} Retry after {seconds} s.", LimitExceededCode, openAiType: limit);
    }
}
