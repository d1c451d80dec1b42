using Microsoft.Extensions.Options;

namespace Gateway.Telemetry;

/// <summary>Bound from <c>Gateway:Telemetry</c>.</summary>
internal sealed class TelemetryOptions
{
    public const string Section = "Gateway:Telemetry";
    public const string TextFormat = "text";
    public const string JsonFormat = "json";

    /// <summary>An OTLP/gRPC collector (e.g. <c>http://127.0.0.1:4317</c>); metrics and traces are exported only when set.</summary>
    public string? OtlpEndpoint { get; set; }

    /// <summary><c>text</c> (the default console format) or <c>json</c> (one JSON object a line, with scopes).</summary>
    public string LogFormat { get; set; } = TextFormat;

    /// <summary>Logs prompts and completions. Off by default: they may hold what callers would not have logged.</summary>
    public bool LogContent { get; set; }
}

internal sealed class TelemetryOptionsValidator : IValidateOptions<TelemetryOptions>
{
    public ValidateOptionsResult Validate(string? name, TelemetryOptions options)
    {
        var failures = new List<string>();
        if (!string.IsNullOrEmpty(options.OtlpEndpoint)
            && (!Uri.TryCreate(options.OtlpEndpoint, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https")))
        {
            failures.Add($"{TelemetryOptions.Section}:OtlpEndpoint must be an absolute http or https URL (got {Hosting.ConfigValue.Quoted(options.OtlpEndpoint)}).");
        }

        if (options.LogFormat is not (TelemetryOptions.TextFormat or TelemetryOptions.JsonFormat))
        {
            failures.Add($"{TelemetryOptions.Section}:LogFormat must be '{TelemetryOptions.TextFormat}' or '{TelemetryOptions.JsonFormat}' (got {Hosting.ConfigValue.Quoted(options.LogFormat)}).");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
