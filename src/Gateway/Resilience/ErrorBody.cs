namespace Gateway.Resilience;

/// <summary>
/// The body of an upstream's error status, read before the adapter reads it for the upstream's message. An error body
/// that stalls after its headers (a proxy or a server dying mid-answer) otherwise held a call not streamed until its
/// total timeout (600 s by default), the alias's next deployment untried, and the caller got a <c>504</c>. (A stream's
/// is read so too, by the adapter, under its first-token clock: <c>OpenAiChatClient</c>.) A body too slow or too long
/// is replaced by an empty one, so the failure goes on at once, told by its status, and no half-read body is passed on.
/// (A 429's is read the same way by <c>QuotaExhaustion</c>, with a smaller cap, to see whether it names the exhausted
/// quota.)
/// </summary>
internal static class ErrorBody
{
    /// <summary>How long an error body may take to arrive: an upstream's is a few hundred bytes, sent with its headers.</summary>
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(2);

    /// <summary>
    /// The most of an error body read: far more than any error says (an upstream quoting a whole request back is a few
    /// MB, of which the caller is shown 4,096 characters), but not a body without end.
    /// </summary>
    public const int MaxBytes = 16 * 1024 * 1024;

    /// <summary>
    /// Buffers the body, <see cref="Wait"/> and <paramref name="maxBytes"/> at most, and says whether it could; a body
    /// too slow, too long or broken is replaced by an empty one. The caller's cancellation goes on as thrown.
    /// </summary>
    public static async ValueTask<bool> TryBufferAsync(
        HttpResponseMessage response, int maxBytes, TimeProvider timeProvider, CancellationToken cancellationToken)
    {
        // The source's own clock, not a timer that cancels it: a timer's callback already running when the source is
        // disposed would throw ObjectDisposedException on a thread-pool thread, which ends the process.
        using var deadline = new TimeoutSource(Wait, timeProvider, cancellationToken);
        try
        {
            await response.Content.LoadIntoBufferAsync(maxBytes, deadline.Token).ConfigureAwait(false);
            return true;
        }
        catch (Exception exception) when (exception is HttpRequestException or OperationCanceledException or IOException)
        {
            response.Content.Dispose();
            response.Content = new ByteArrayContent([]);
            if (cancellationToken.IsCancellationRequested)
            {
                throw;
            }

            return false;
        }
    }
}
