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
        StartupRefusedException refused => "  " + refused.Message,
        // The configuration binder's refusal of a value it cannot convert, which names the key (and quotes the value,
        // which may be a secret: said in the gateway's words instead).
        InvalidOperationException { Message: var message } when message.StartsWith("Failed to convert configuration value", StringComparison.Ordinal) =>
            "  " + Unconvertible(message, exception),
        // appsettings.json that is not JSON. The file named is the copy next to the binaries; the one to fix is its source.
        InvalidDataException { Message: var message } when message.StartsWith("Failed to load configuration from file", StringComparison.Ordinal) =>
            $"  {message} {exception.InnerException?.Message}{Environment.NewLine}" +
            "  (Under `dotnet run` that file is a copy, made at build, of appsettings.json at the repository root: fix the root file.)",
        // Kestrel could not listen: another process has the port, or the address is not this machine's.
        IOException { Message: var message } when message.StartsWith("Failed to bind to address", StringComparison.Ordinal) =>
            $"  {message}. Is another process listening there? Choose another address with --urls (e.g. --urls http://127.0.0.1:9090).",
        _ => null,
    };

    /// <summary>
    /// "Failed to convert configuration value '…' at 'Gateway:Streaming:EventRetentionMinutes' to type 'System.Double'."
    /// as "Gateway:Streaming:EventRetentionMinutes must be a number.", as the shape check says it for other sections.
    /// </summary>
    private static string Unconvertible(string message, Exception exception)
    {
        const string At = "' at '", ToType = "' to type '";
        var key = message.LastIndexOf(At, StringComparison.Ordinal);
        var type = message.LastIndexOf(ToType, StringComparison.Ordinal);
        if (key < 0 || type < key)
        {
            return "A configuration value could not be read as the type its setting needs.";
        }

        var path = message[(key + At.Length)..type];
        for (var inner = exception.InnerException; inner is not null; inner = inner.InnerException)
        {
            if (inner is OverflowException)
            {
                return $"{path} is out of range for its setting.";
            }
        }

        var typeName = message[(type + ToType.Length)..].TrimEnd('.', '\'');
        return Type.GetType(typeName) is { } setting
            ? $"{path} must be {ConfigurationShape.Describe(setting)}."
            : $"{path} must be a {typeName[(typeName.LastIndexOf('.') + 1)..]}.";
    }

    /// <summary>
    /// A failure named by the property alone (the validators generated from <c>[Range]</c> say "HeartbeatSeconds: The
    /// field ... must be ...") is given its section, so that it names the configuration key; one that names its key
    /// after the property's name loses the property's name.
    /// </summary>
    private static string Keyed(string failure, Type optionsType)
    {
        var named = failure.IndexOf(": Gateway:", StringComparison.Ordinal);
        if (named > 0)
        {
            return failure[(named + 2)..];
        }

        return !failure.StartsWith("Gateway:", StringComparison.Ordinal) && optionsType.GetField("Section")?.GetRawConstantValue() is string section
            ? $"{section}:{failure}"
            : failure;
    }
}
