using Gateway.Hosting;
using Microsoft.AspNetCore.RateLimiting;

namespace Gateway.Security;

/// <summary>
/// Each key's <c>RequestsPerMinute</c>: one bucket per key name in <see cref="IRateBuckets"/> (shared by every replica
/// on PostgreSQL), refilled continuously. Callers without a limit (and the anonymous caller) are not counted, nor
/// are requests to endpoints marked <c>DisableRateLimiting()</c> (the probes, and re-attaching to or cancelling a run),
/// nor those no endpoint answers (a 404 for a path that does not exist: a client with a wrong base URL used up its
/// key's requests on them, and its next real call was a 429).
/// The requests of a key with any limit get its <see cref="RateLimitHeaders"/>.
/// </summary>
internal sealed class RequestRateLimiting(RequestDelegate next, ApiKeyStore keys, IRateBuckets buckets, TimeProvider time)
{
    /// <summary>The code of every 429 for a key's own limits (requests or tokens per minute), on every surface.</summary>
    public const string LimitExceededCode = "rate_limit_exceeded";

    private static readonly TimeSpan Window = TimeSpan.FromMinutes(1);

    public async Task InvokeAsync(HttpContext http)
    {
        if (http.User.Identity is { IsAuthenticated: true, Name: { } name }
            && keys.Get(name) is { HasLimits: true } key
            && http.GetEndpoint() is { } endpoint
            && endpoint.Metadata.GetMetadata<DisableRateLimitingAttribute>() is null)
        {
            var headers = RateLimitHeaders.Attach(http, onEveryAnswer: endpoint.Metadata.GetMetadata<RateLimitHeaders.OnEveryAnswer>() is not null);
            if (key.RequestsPerMinute is { } perMinute)
            {
                var take = await buckets.TryTakeAsync(key.RequestsBucket, perMinute, Window, 1, http.RequestAborted);
                headers.Requests = new BucketStanding(perMinute, Window, take.Available, time);
                if (take.RetryAfter is { } retryAfter)
                {
                    await WriteTooManyAsync(http, retryAfter, "Request rate limit reached for this API key.", "requests");
                    return;
                }
            }
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
