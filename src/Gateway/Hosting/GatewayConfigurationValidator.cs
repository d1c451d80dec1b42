using Gateway.OpenApi;
using Gateway.Providers;
using Gateway.Resilience;
using Gateway.Runs;
using Gateway.Security;
using Gateway.Storage;
using Gateway.Streaming;
using Gateway.Telemetry;
using Microsoft.Extensions.Options;

namespace Gateway.Hosting;

/// <summary>
/// Walks the whole <c>Gateway</c> section at start-up against the settings each part binds to, so that a key the
/// binder would pass over in silence (<see cref="ConfigurationShape"/>) stops the gateway, named. It validates
/// <see cref="RoutingOptions"/> because that is the one type bound to the section as a whole.
/// </summary>
internal sealed class GatewayConfigurationValidator(IConfiguration configuration) : IValidateOptions<RoutingOptions>
{
    /// <summary>Every part of <c>Gateway</c>, and what it binds to.</summary>
    private static readonly Dictionary<string, Type> Parts = new(StringComparer.OrdinalIgnoreCase)
    {
        ["Providers"] = typeof(Dictionary<string, ProviderOptions>),
        ["Models"] = typeof(Dictionary<string, ModelOptions>),
        ["Resilience"] = typeof(ResilienceOptions),
        ["Streaming"] = typeof(StreamingOptions),
        ["Storage"] = typeof(StorageOptions),
        ["Auth"] = typeof(AuthOptions),
        ["Cors"] = typeof(GatewayCorsOptions),
        ["Limits"] = typeof(LimitsOptions),
        ["Telemetry"] = typeof(TelemetryOptions),
        ["Cluster"] = typeof(ClusterOptions),
        ["OpenApi"] = typeof(OpenApiOptions),
    };

    public ValidateOptionsResult Validate(string? name, RoutingOptions options)
    {
        var problems = new List<string>();
        foreach (var part in configuration.GetSection(RoutingOptions.Section).GetChildren())
        {
            if (Parts.TryGetValue(part.Key, out var type))
            {
                ConfigurationShape.Check(part, type, problems, BoundElsewhere);
            }
            else
            {
                problems.Add($"{part.Path} is not a setting the gateway knows (misspelled?).");
            }
        }

        return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
    }

    /// <summary>A provider's <c>Resilience</c> overlays <c>Gateway:Resilience</c> as its own named options.</summary>
    private static Type? BoundElsewhere(Type owner, string key) =>
        owner == typeof(ProviderOptions) && string.Equals(key, "Resilience", StringComparison.OrdinalIgnoreCase) ? typeof(ResilienceOptions) : null;
}
