using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace Gateway.Security;

/// <summary>Caps on what one request may send, bound from <c>Gateway:Limits</c>.</summary>
internal sealed class LimitsOptions
{
    public const string Section = "Gateway:Limits";

    /// <summary>
    /// How deeply request JSON may nest: System.Text.Json's default. Most requests need a handful of levels, but a
    /// function's JSON schema starts five deep and OpenAI's Structured Outputs allow ten levels of objects in it.
    /// </summary>
    public const int MaxJsonDepth = 64;

    /// <summary>
    /// The most tokens a call may ask a model for (<c>max_tokens</c>, a node's <c>maxTokens</c>). Models stop far
    /// below it; without a bound, one request for two billion tokens reserved that much of its key's budget, and
    /// made the simulated provider allocate until the process failed.
    /// </summary>
    public const int MaxOutputTokens = 1_000_000;

    /// <summary>Bigger bodies get 413. 1 MiB holds a long conversation; a flow definition is far smaller.</summary>
    [Range(1024, 1 << 30)]
    public long MaxRequestBytes { get; set; } = 1 << 20;

    /// <summary>
    /// How many runs one key may have executing at once on a replica, background runs included; the next is a 429
    /// (<see cref="Runs.RunsPerKey"/>). 8 by measurement: one key keeping 32 runs that each render a million characters
    /// in flight held another key's small run at ~10 s (0.05 s alone), and ran a 512 MB heap out of memory; 8 kept it
    /// to 2–3.5 s, within ~730 MB.
    /// </summary>
    [Range(1, 100_000)]
    public int MaxRunsPerKey { get; set; } = 8;
}

[OptionsValidator]
internal sealed partial class LimitsOptionsValidator : IValidateOptions<LimitsOptions>;
