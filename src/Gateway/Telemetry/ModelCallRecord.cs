namespace Gateway.Telemetry;

/// <summary>
/// One model call as it ended, for <see cref="GatewayMetrics.ModelCallCompleted"/> and the summary log line.
/// </summary>
/// <param name="Surface"><see cref="Surfaces.V1"/> or <see cref="Surfaces.Runs"/>.</param>
/// <param name="Model">The model alias the caller asked for.</param>
/// <param name="Provider">The provider that answered, or the last one tried.</param>
/// <param name="Outcome">One of <see cref="Outcomes"/>.</param>
/// <param name="ErrorType">The error code a failed call reported (e.g. <c>upstream_timeout</c>); null on success.</param>
/// <param name="Attempts">Upstream attempts, across deployments.</param>
/// <param name="Duration">From the request to its last byte.</param>
/// <param name="TimeToFirstToken">From the request to its first token; null when none came.</param>
/// <param name="InputTokens">Prompt tokens, as the provider counted them, or estimated for a stream cut off (<see cref="CallRecorder"/>); 0 when there are none.</param>
/// <param name="OutputTokens">Completion tokens, likewise.</param>
/// <param name="CostUsd">From <see cref="Providers.ModelPricing"/>; 0 when the alias has no prices.</param>
/// <param name="UpstreamRequestId">The upstream's id for the last response of the deployment that answered, or was tried last (<see cref="Providers.RouteTrace.UpstreamRequestId"/>).</param>
internal readonly record struct ModelCallRecord(
    string Surface,
    string Model,
    string Provider,
    string Outcome,
    string? ErrorType,
    int Attempts,
    TimeSpan Duration,
    TimeSpan? TimeToFirstToken,
    long InputTokens,
    long OutputTokens,
    double CostUsd,
    string? UpstreamRequestId);

internal static class Surfaces
{
    public const string V1 = "v1";
    public const string Runs = "runs";
}

internal static class Outcomes
{
    public const string Success = "success";

    /// <summary>Failed before anything reached the caller: answered with an error status.</summary>
    public const string Error = "error";

    /// <summary>Failed after the stream started: ended with an error event.</summary>
    public const string StreamError = "stream_error";

    /// <summary>The caller went away (or cancelled the run) before the end.</summary>
    public const string Cancelled = "cancelled";
}
