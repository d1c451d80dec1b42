using System.Globalization;
using System.Threading.RateLimiting;
using Gateway.Hosting;
using Microsoft.AspNetCore.RateLimiting;

namespace Gateway.Security;

/// <summary>
/// Each key's <c>RequestsPerMinute</c>, on ASP.NET Core's rate limiting middleware: one bucket per key name,
/// refilled continuously. Callers without a limit (and the anonymous caller) are not partitioned at all.
/// </summary>
internal static class RequestRateLimiting
{
    public static void Configure(RateLimiterOptions options, ApiKeyStore keys, TimeProvider time)
    {
        options.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, string>(http =>
            http.User.Identity is { IsAuthenticated: true, Name: { } name } && keys.Get(name) is { RequestsPerMinute: { } perMinute }
                ? RateLimitPartition.Get(name, _ => new TokenBucket(perMinute, TimeSpan.FromMinutes(1), time))
                : RateLimitPartition.GetNoLimiter(string.Empty));
        options.OnRejected = (context, _) =>
        {
            var retryAfter = context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var delay) ? delay : TimeSpan.FromSeconds(1);
            return new ValueTask(WriteTooManyAsync(context.HttpContext, retryAfter, "Request rate limit reached for this API key.", "requests"));
        };
    }

    /// <summary>429 with <c>Retry-After</c> in whole seconds, in the error shape of the surface called.</summary>
    public static Task WriteTooManyAsync(HttpContext http, TimeSpan retryAfter, string message, string limit)
    {
        var seconds = Math.Max(1, (long)Math.Ceiling(retryAfter.TotalSeconds));
        http.Response.StatusCode = StatusCodes.Status429TooManyRequests;
        http.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
        return http.WriteErrorAsync(
            StatusCodes.Status429TooManyRequests, $"{message} Retry after {seconds} s.", "rate_limit_exceeded", openAiType: limit);
    }
}
