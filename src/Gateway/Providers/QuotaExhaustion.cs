using System.Net;

namespace Gateway.Providers;

/// <summary>
/// A 429 that is not a rate limit: OpenAI answers <c>insufficient_quota</c> when the account has run out of credit.
/// Waiting does not cure it, so it is not retried (three more refusals, and the backoff, for nothing) and the caller is
/// not told to come back later; the next deployment is tried, as for a refused key, and alone it is a 502.
/// </summary>
internal static class QuotaExhaustion
{
    public const string UpstreamCode = "insufficient_quota";

    /// <summary>How much of a 429's body is read to find the code: OpenAI's is a few hundred bytes.</summary>
    private const int MaxBodyBytes = 64 * 1024;

    public static bool Of(UpstreamException exception) =>
        exception is { Failure: UpstreamFailure.Status, Status: HttpStatusCode.TooManyRequests, UpstreamCode: UpstreamCode };

    /// <summary>
    /// Whether a 429 says the quota is gone, for the HTTP retry, which sees the response before anything parses it.
    /// The body is buffered (so the adapter still reads it whole), within <paramref name="wait"/>; a body that is too
    /// long, too slow or broken is taken for a rate limit, as before.
    /// </summary>
    public static async ValueTask<bool> IsReportedByAsync(HttpResponseMessage response, TimeSpan wait, TimeProvider timeProvider, CancellationToken cancellationToken)
    {
        if (response.StatusCode != HttpStatusCode.TooManyRequests)
        {
            return false;
        }

        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var timer = timeProvider.CreateTimer(static state => ((CancellationTokenSource)state!).Cancel(), deadline, wait, Timeout.InfiniteTimeSpan);
        try
        {
            await response.Content.LoadIntoBufferAsync(MaxBodyBytes, deadline.Token).ConfigureAwait(false);
            var body = await response.Content.ReadAsByteArrayAsync(deadline.Token).ConfigureAwait(false);
            return body.AsSpan().IndexOf("\"insufficient_quota\""u8) >= 0;
        }
        catch (Exception exception) when (exception is HttpRequestException or OperationCanceledException or IOException && !cancellationToken.IsCancellationRequested)
        {
            return false;
        }
    }
}
