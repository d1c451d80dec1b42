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
        // The store answered the start-up's first checks, then failed one of its services' first queries: a file whose
        // pages are damaged ("database disk image is malformed"), say. The operator's to mend (restore a backup).
        // The setting is named, not its value: a connection string may hold a password.
        System.Data.Common.DbException { Message: var message } =>
            $"  The store failed while the gateway started: {message.TrimEnd('.')}. Check the store Gateway:Storage:ConnectionString names (a damaged file is mended from a backup).",
        // The configuration binder's refusal of a value it cannot convert, which names the key (and quotes the value,
        // which may be a secret: said in the gateway's words instead).
        InvalidOperationException { Message: var message } when message.StartsWith("Failed to convert configuration value", StringComparison.Ordinal) =>
            "  " + Unconvertible(message, exception),
        // appsettings.json that is not JSON: where in it, which the parser's own exception, two levels in, says.
        InvalidDataException { Message: var message } when message.StartsWith("Failed to load configuration from file", StringComparison.Ordinal) =>
            $"  {message} {exception.InnerException?.Message} {exception.InnerException?.InnerException?.Message}".TrimEnd() + BuildCopyHint(message),
        // Kestrel could not listen: another process has the port, or the address is not this machine's.
        IOException { Message: var message } when message.StartsWith("Failed to bind to address", StringComparison.Ordinal) =>
            $"  {message.TrimEnd('.')}. Is another process listening there? Choose another address with --urls (e.g. --urls http://127.0.0.1:9090).",
        System.Net.Sockets.SocketException { Message: var message } =>
            $"  Could not listen on an address --urls names: {message}. Choose another address (e.g. --urls http://127.0.0.1:9090).",
        // https in --urls without a certificate: Kestrel's message says what to do.
        InvalidOperationException { Message: var message } when message.StartsWith("Unable to configure HTTPS endpoint", StringComparison.Ordinal) =>
            "  " + message.ReplaceLineEndings(" "),
        // A Logging:LogLevel value that is not a level; the logging options name neither the key nor the levels.
        InvalidOperationException { Message: var message } when message.StartsWith("Configuration value '", StringComparison.Ordinal)
            && message.EndsWith("' is not supported.", StringComparison.Ordinal) =>
            $"  {message} A Logging:LogLevel value must be Trace, Debug, Information, Warning, Error, Critical or None.",
        _ => null,
    };

    /// <summary>
    /// Under <c>dotnet run</c> the file named is a copy, made at build, of the one at the repository root: the hint says
    /// which to fix. A published gateway's file is its own.
    /// </summary>
    private static string BuildCopyHint(string message) =>
        message.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
            ? Environment.NewLine + "  (Under `dotnet run` that file is a copy, made at build, of appsettings.json at the repository root: fix the root file.)"
            : "";

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

        if (failure.StartsWith("Gateway:", StringComparison.Ordinal) || optionsType.GetField("Section")?.GetRawConstantValue() is not string section)
        {
            return failure;
        }

        // "ShutdownDrainSeconds: The field StreamingOptions.ShutdownDrainSeconds must be between 0 and 3600." names a C#
        // type; said as the key: "Gateway:Streaming:ShutdownDrainSeconds must be between 0 and 3600."
        var colon = failure.IndexOf(": ", StringComparison.Ordinal);
        var mustBe = failure.IndexOf(" must be ", StringComparison.Ordinal);
        return colon > 0 && mustBe > colon
            ? $"{section}:{failure[..colon].Replace('.', ':')}{failure[mustBe..]}"
            : $"{section}:{failure}";
    }
}
