using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace Gateway.Resilience;

/// <summary>
/// How hard the gateway tries before it gives up on a deployment, bound from <c>Gateway:Resilience</c> and
/// overridable per provider under <c>Gateway:Providers:{name}:Resilience</c>. Named options: the name is the
/// provider's, the unnamed instance is the global default.
/// </summary>
internal sealed class ResilienceOptions
{
    public const string Section = "Gateway:Resilience";

    /// <summary>The shortest any of the clocks may be set to, in seconds.</summary>
    public const double MinClockSeconds = 0.01;

    /// <summary>The longest a stream's first-token or idle clock may be set to, in seconds (a deployment's own too).</summary>
    public const double MaxStreamClockSeconds = 3_600;

    /// <summary>Retries per deployment, shared by HTTP failures and failures before the first token.</summary>
    [Range(0, 10)]
    public int MaxRetries { get; set; } = 2;

    /// <summary>The first backoff delay; later ones grow exponentially, with jitter.</summary>
    [Range(0, 60_000)]
    public int BaseDelayMs { get; set; } = 200;

    /// <summary>The longest wait between attempts, also the cap on an upstream's <c>Retry-After</c>.</summary>
    [Range(0, 600_000)]
    public int MaxDelayMs { get; set; } = 10_000;

    /// <summary>From the start of an attempt to its first token (and the per-attempt wait for response headers).</summary>
    [Range(MinClockSeconds, MaxStreamClockSeconds)]
    public double FirstTokenTimeoutSeconds { get; set; } = 30;

    /// <summary>The longest silence between two chunks once a stream has started.</summary>
    [Range(MinClockSeconds, MaxStreamClockSeconds)]
    public double IdleTimeoutSeconds { get; set; } = 30;

    /// <summary>The whole request, retries included; the only bound on a non-streaming upstream call.</summary>
    [Range(MinClockSeconds, 86_400)]
    public double TotalTimeoutSeconds { get; set; } = 600;

    [ValidateObjectMembers]
    public CircuitBreakerOptions CircuitBreaker { get; set; } = new();

    public TimeSpan BaseDelay => TimeSpan.FromMilliseconds(BaseDelayMs);
    public TimeSpan MaxDelay => TimeSpan.FromMilliseconds(MaxDelayMs);
    public TimeSpan FirstTokenTimeout => TimeSpan.FromSeconds(FirstTokenTimeoutSeconds);
    public TimeSpan IdleTimeout => TimeSpan.FromSeconds(IdleTimeoutSeconds);
    public TimeSpan TotalTimeout => TimeSpan.FromSeconds(TotalTimeoutSeconds);

    /// <summary>A copy with another first-token clock (a deployment's own), everything else the same.</summary>
    public ResilienceOptions WithFirstTokenTimeout(TimeSpan firstToken)
    {
        var copy = (ResilienceOptions)MemberwiseClone();
        copy.FirstTokenTimeoutSeconds = firstToken.TotalSeconds;
        return copy;
    }
}

/// <summary>One breaker per provider: it opens when too many of its recent calls failed.</summary>
internal sealed class CircuitBreakerOptions
{
    /// <summary>The share of failed calls in the sampling window that opens the breaker.</summary>
    [Range(0.01, 1.0)]
    public double FailureRatio { get; set; } = 0.5;

    /// <summary>No verdict on fewer calls than this in the sampling window.</summary>
    [Range(2, 100_000)]
    public int MinimumThroughput { get; set; } = 10;

    [Range(0.5, 3_600)]
    public double SamplingSeconds { get; set; } = 30;

    /// <summary>How long an open breaker skips its provider before letting one trial call through.</summary>
    [Range(0.5, 3_600)]
    public double BreakSeconds { get; set; } = 15;
}
