using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace Gateway.Streaming;

/// <summary>How event streams behave on the network, bound from <c>Gateway:Streaming</c>.</summary>
internal sealed class StreamingOptions
{
    public const string Section = "Gateway:Streaming";

    /// <summary>How long a stream may stay silent before a <c>: keep-alive</c> comment is sent; below proxies' read timeouts.</summary>
    [Range(0.01, 3_600)]
    public double HeartbeatSeconds { get; set; } = 15;

    /// <summary>How long a run without watchers keeps running, waiting for one to re-attach (background runs excepted).</summary>
    [Range(0d, 3_600d)]
    public double DisconnectGraceSeconds { get; set; } = 10;

    /// <summary>How long a finished run's live log stays in memory; later its events are replayed from the store.</summary>
    [Range(0d, 10_080d)]
    public double EventRetentionMinutes { get; set; } = 60;

    /// <summary>
    /// How much of finished runs' logs stays in memory at most, in MiB of event text: past it the oldest are let go
    /// before their time (and replayed from the store). A busy gateway's hour of runs was held whatever it weighed.
    /// </summary>
    [Range(0d, 65_536d)]
    public double EventRetentionMegabytes { get; set; } = 64;

    /// <summary>
    /// When the gateway is told to stop (SIGTERM), how long the streams under way get to finish on their own before
    /// they are ended as failures are: a /v1 stream with its error event, a run <c>interrupted</c>.
    /// </summary>
    [Range(0d, 3_600d)]
    public double ShutdownDrainSeconds { get; set; } = 20;

    /// <summary>
    /// How long a run stream's write may wait on a client that has stopped reading (its socket open, its buffers full)
    /// before the stream is cut off; the client resumes with <c>Last-Event-ID</c>. Such a watcher held its connection,
    /// and for a run read back from the store a copy of every event, for as long as its socket stayed open.
    /// </summary>
    [Range(0.01, 3_600)]
    public double StalledWatcherSeconds { get; set; } = 30;

    /// <summary>The <c>retry:</c> hint sent first on run streams: how long an <c>EventSource</c> waits before it reconnects.</summary>
    public const int RetryMilliseconds = 1_000;

    public TimeSpan Heartbeat => TimeSpan.FromSeconds(HeartbeatSeconds);

    public TimeSpan DisconnectGrace => TimeSpan.FromSeconds(DisconnectGraceSeconds);

    public TimeSpan EventRetention => TimeSpan.FromMinutes(EventRetentionMinutes);

    /// <summary><see cref="EventRetentionMegabytes"/> as characters of event text (two bytes each).</summary>
    public long EventRetentionChars => (long)(EventRetentionMegabytes * 1024 * 1024 / 2);

    public TimeSpan ShutdownDrain => TimeSpan.FromSeconds(ShutdownDrainSeconds);

    public TimeSpan StalledWatcher => TimeSpan.FromSeconds(StalledWatcherSeconds);
}

[OptionsValidator]
internal sealed partial class StreamingOptionsValidator : IValidateOptions<StreamingOptions>;
