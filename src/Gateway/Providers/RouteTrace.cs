namespace Gateway.Providers;

/// <summary>A retry of the same deployment, or a fallback to the alias's next one, about to happen.</summary>
/// <param name="Attempt">The number of the attempt about to start (2 for the first retry).</param>
/// <param name="Delay">How long the router waits before it.</param>
/// <param name="Reason">Why the previous attempt failed, in words a caller may see.</param>
/// <param name="Provider">The provider of the next attempt.</param>
/// <param name="Model">The model of the next attempt.</param>
/// <param name="IsFallback">True when the next attempt goes to another deployment.</param>
/// <param name="UpstreamRequestId">
/// The upstream's own id (<see cref="Resilience.UpstreamRequestId"/>) for the failed deployment's last response, as the
/// retry's log line names it; null when it sent none.
/// </param>
internal sealed record RouteRetry(int Attempt, TimeSpan Delay, string Reason, string Provider, string Model, bool IsFallback, string? UpstreamRequestId);

/// <summary>
/// What happened while one request was routed: filled in by <see cref="RoutedChat"/>, read by its caller
/// (the /v1 endpoint's <c>X-Gateway-Attempts</c>, a flow node's record and its <c>node.retrying</c> events).
/// </summary>
internal sealed class RouteTrace
{
    /// <summary>Called before every retry or fallback, on the routing thread.</summary>
    public Action<RouteRetry>? OnRetrying { get; init; }

    /// <summary>
    /// Whether a reasoning model's thinking reaches the caller (a /v1 stream passes it on), so that it starts the stream
    /// as its first token and nothing is retried after it. A flow node's call sends it nowhere: a failure while the model
    /// thinks is still retried.
    /// </summary>
    public bool ThinkingReachesCaller { get; init; } = true;

    /// <summary>
    /// Cancelled when a streamed call's total timeout runs out (or its caller's token is cancelled): set by
    /// <see cref="RoutedChat"/> as the stream starts, for a writer that may be blocked on a client no longer reading,
    /// where the stream's own clocks cannot reach it.
    /// </summary>
    public CancellationToken Deadline { get; internal set; }

    /// <summary>Upstream attempts made so far, across deployments.</summary>
    public int Attempts { get; internal set; }

    /// <summary>
    /// The upstream's own id (<see cref="Resilience.UpstreamRequestId"/>) for the last response of the deployment in
    /// <see cref="Deployment"/>: what its support asks for, in the summary line. Null when that deployment sent no
    /// response with one (the simulated provider, an attempt without headers, an open circuit that sent nothing).
    /// </summary>
    public string? UpstreamRequestId { get; internal set; }

    /// <summary>The deployment that produced the first token (or the last one tried, after a failure).</summary>
    public Deployment? Deployment { get; internal set; }

    /// <summary>
    /// Attempts that failed while their model was still thinking, where the thinking reaches no one (a flow node's call,
    /// which is then retried), and the thinking they had brought, a token a chunk: spent and billed by the provider,
    /// which reports no usage for them. The call's counts add them (<c>CallRecorder</c>).
    /// </summary>
    public int AttemptsLostWhileThinking { get; private set; }

    /// <inheritdoc cref="AttemptsLostWhileThinking"/>
    public long ThinkingTokensLost { get; private set; }

    internal void LostWhileThinking(long thinkingChunks)
    {
        AttemptsLostWhileThinking++;
        ThinkingTokensLost += thinkingChunks;
    }
}
