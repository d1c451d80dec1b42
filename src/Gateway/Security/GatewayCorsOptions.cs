using Microsoft.Extensions.Options;

namespace Gateway.Security;

/// <summary>The browser origins allowed to call the gateway, bound from <c>Gateway:Cors</c>; none by default.</summary>
internal sealed class GatewayCorsOptions
{
    public const string Section = "Gateway:Cors";

    public List<string> AllowedOrigins { get; set; } = [];
}

/// <summary>An origin is a scheme, host and port; a wildcard or a path is a mistake that would open more than meant.</summary>
internal sealed class GatewayCorsOptionsValidator : IValidateOptions<GatewayCorsOptions>
{
    public ValidateOptionsResult Validate(string? name, GatewayCorsOptions options)
    {
        var failures = new List<string>();
        for (var i = 0; i < options.AllowedOrigins.Count; i++)
        {
            var origin = options.AllowedOrigins[i];
            if (!Uri.TryCreate(origin, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https")
                || uri.PathAndQuery != "/" || origin.EndsWith('/') || origin.Contains('*', StringComparison.Ordinal))
            {
                failures.Add($"{GatewayCorsOptions.Section}:AllowedOrigins:{i} must be an origin such as https://app.example.com (got {Hosting.ConfigValue.Quoted(origin)}).");
            }
            else if (uri.IsDefaultPort && origin.EndsWith($":{uri.Port}", StringComparison.Ordinal))
            {
                // A browser's Origin never names its scheme's own port: this one would match no request, in silence.
                failures.Add($"{GatewayCorsOptions.Section}:AllowedOrigins:{i} names the default port {uri.Port}, which browsers leave out of their Origin: "
                    + $"write {uri.Scheme}://{uri.Host} (got {Hosting.ConfigValue.Quoted(origin)}).");
            }
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
