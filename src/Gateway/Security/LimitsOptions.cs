using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace Gateway.Security;

/// <summary>Caps on what one request may send, bound from <c>Gateway:Limits</c>.</summary>
internal sealed class LimitsOptions
{
    public const string Section = "Gateway:Limits";

    /// <summary>How deeply request JSON may nest; OpenAI requests and flows need a handful of levels.</summary>
    public const int MaxJsonDepth = 32;

    /// <summary>Bigger bodies get 413. 1 MiB holds a long conversation; a flow definition is far smaller.</summary>
    [Range(1024, 1 << 30)]
    public long MaxRequestBytes { get; set; } = 1 << 20;
}

[OptionsValidator]
internal sealed partial class LimitsOptionsValidator : IValidateOptions<LimitsOptions>;
