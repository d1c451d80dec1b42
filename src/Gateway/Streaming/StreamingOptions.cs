using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace Gateway.Streaming;

/// <summary>How event streams behave on the network, bound from <c>Gateway:Streaming</c>.</summary>
internal sealed class StreamingOptions
{
    public const string Section = "Gateway:Streaming";

    /// <summary>How long a stream may stay silent before a <c>: keep-alive</c> comment is sent; below proxies' read timeouts.</summary>
    [Range(0.01, 3_600, ErrorMessage = "Gateway:Streaming:HeartbeatSeconds must be between 0.01 and 3600.")]
    public double HeartbeatSeconds { get; set; } = 15;

    /// <summary>How long a run without watchers keeps running, waiting for one to re-attach (background runs excepted).</summary>
    [Range(0, 3_600, ErrorMessage = "Gateway:Streaming:DisconnectGraceSeconds must be between 0 and 3600.")]
    public double DisconnectGraceSeconds { get; set; } = 10;

    /// <summary>How long a finished run's live log stays in memory; later its events are replayed from the store.</summary>
    [Range(0, 10_080, ErrorMessage = "Gateway:Streaming:EventRetentionMinutes must be between 0 and 10080.")]
    public double EventRetentionMinutes { get; set; } = 60;

    /// <summary>
    /// When the gateway is told to stop (SIGTERM), how long the streams under way get to finish on their own before
    /// they are ended as failures are: a /v1 stream with its error event, a run <c>interrupted</c>.
    /// </summary>
    [Range(0, 3_600, ErrorMessage = "Gateway:Streaming:ShutdownDrainSeconds must be between 0 and 3600.")]
    public double ShutdownDrainSeconds { get; set; } = 20;

    /// <summary>The <c>retry:</c> hint sent first on run streams: how long an <c>EventSource</c> waits before it reconnects.</summary>
    public const int RetryMilliseconds = 1_000;

    public TimeSpan Heartbeat => TimeSpan.FromSeconds(HeartbeatSeconds);

    public TimeSpan DisconnectGrace => TimeSpan.FromSeconds(DisconnectGraceSeconds);

    public TimeSpan EventRetention => TimeSpan.FromMinutes(EventRetentionMinutes);

    public TimeSpan ShutdownDrain => TimeSpan.FromSeconds(ShutdownDrainSeconds);
}

[OptionsValidator]
internal sealed partial class StreamingOptionsValidator : IValidateOptions<StreamingOptions>;
