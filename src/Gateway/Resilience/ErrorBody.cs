namespace Gateway.Resilience;

/// <summary>
/// The body of an upstream's error status, read before the adapter reads it for the upstream's message. An error body
/// that stalls after its headers (a proxy or a server dying mid-answer) otherwise held a call not streamed until its
/// total timeout (600 s by default), the alias's next deployment untried, and the caller got a <c>504</c>. (A stream's
/// is not read here: its first-token timeout bounds it.) A body too slow or too long is replaced by an empty one, so
/// the failure goes on at once, told by its status, and no half-read body is passed on. (A 429's is read by
/// <c>QuotaExhaustion</c>.)
/// </summary>
internal static class ErrorBody
{
    /// <summary>How long an error body may take to arrive: an upstream's is a few hundred bytes, sent with its headers.</summary>
    public static readonly TimeSpan Wait = TimeSpan.FromSeconds(2);

    /// <summary>
    /// The most of an error body read: far more than any error says (an upstream quoting a whole request back is a few
    /// MB, of which the caller is shown 4,096 characters), but not a body without end.
    /// </summary>
    private const int MaxBytes = 16 * 1024 * 1024;

    public static async ValueTask BufferAsync(HttpResponseMessage response, TimeProvider timeProvider, CancellationToken cancellationToken)
    {
        // The source's own clock, not a timer that cancels it (see QuotaExhaustion.IsReportedByAsync).
        using var deadline = new TimeoutSource(Wait, timeProvider, cancellationToken);
        try
        {
            await response.Content.LoadIntoBufferAsync(MaxBytes, deadline.Token).ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is HttpRequestException or OperationCanceledException or IOException)
        {
            response.Content.Dispose();
            response.Content = new ByteArrayContent([]);
            if (cancellationToken.IsCancellationRequested)
            {
                throw;
            }
        }
    }
}
