using Microsoft.Extensions.Options;

namespace Gateway.Hosting;

/// <summary>The start-up failures that are an operator's to fix: bad configuration, a store that cannot be reached, an address refused.</summary>
internal static class StartupFailure
{
    /// <summary>One line per reason; null for a failure that is a bug, whose stack trace should be seen.</summary>
    public static string? Describe(Exception exception) => exception switch
    {
        OptionsValidationException invalid => string.Join(Environment.NewLine, invalid.Failures.Select(failure => "  " + Keyed(failure, invalid.OptionsType))),
        AggregateException { InnerExceptions: var inner } when inner.All(e => Describe(e) is not null) =>
            string.Join(Environment.NewLine, inner.Select(e => Describe(e))),
        // The gateway's own start-up checks (anonymous on a public address, an unreachable store, a taken replica id)
        // and the configuration binder's refusals, whose messages name the key.
        InvalidOperationException refused => "  " + refused.Message,
        _ => null,
    };

    /// <summary>
    /// A failure named by the property alone (the validators generated from <c>[Range]</c> say "HeartbeatSeconds: The
    /// field ... must be ...") is given its section, so that it names the configuration key.
    /// </summary>
    private static string Keyed(string failure, Type optionsType) =>
        !failure.StartsWith("Gateway:", StringComparison.Ordinal) && optionsType.GetField("Section")?.GetRawConstantValue() is string section
            ? $"{section}:{failure}"
            : failure;
}
