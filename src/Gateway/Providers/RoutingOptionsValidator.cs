using Gateway.Providers.Simulated;
using Microsoft.Extensions.Options;

namespace Gateway.Providers;

/// <summary>
/// Checks what binding cannot: references between aliases and providers, URLs and types. Every failure
/// names the configuration key, so a bad deployment stops start-up with a message an operator can act on.
/// </summary>
internal sealed class RoutingOptionsValidator(IConfiguration configuration, IHostEnvironment environment) : IValidateOptions<RoutingOptions>
{
    public ValidateOptionsResult Validate(string? name, RoutingOptions options)
    {
        var failures = new List<string>();

        foreach (var (providerName, provider) in options.Providers)
        {
            var key = $"Gateway:Providers:{providerName}";
            switch (provider.Type)
            {
                case ProviderOptions.SimulatedType:
                    if (provider.TokenDelayMs is < 0 or > 60_000)
                    {
                        failures.Add($"{key}:TokenDelayMs must be between 0 and 60000.");
                    }
                    break;
                case ProviderOptions.OpenAiType:
                    if (!Uri.TryCreate(provider.BaseUrl, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
                    {
                        failures.Add($"{key}:BaseUrl must be an absolute http or https URL (got {Hosting.ConfigValue.Quoted(provider.BaseUrl)}).");
                    }

                    // Empty (an override blanking the shipped value) is the default.
                    if (provider.MaxTokensField is not ("" or ProviderOptions.MaxCompletionTokensName or ProviderOptions.MaxTokensName))
                    {
                        failures.Add($"{key}:MaxTokensField must be '{ProviderOptions.MaxCompletionTokensName}' or '{ProviderOptions.MaxTokensName}'.");
                    }

                    break;
                default:
                    failures.Add($"{key}:Type must be '{ProviderOptions.OpenAiType}' or '{ProviderOptions.SimulatedType}' (got {Hosting.ConfigValue.Quoted(provider.Type)}).");
                    break;
            }
        }

        if (options.Models.Count == 0)
        {
            // Most often the settings file is not where the gateway looks for it (a binary copied without it, say).
            var file = Path.Combine(environment.ContentRootPath, "appsettings.json");
            failures.Add(File.Exists(file)
                ? "Gateway:Models must define at least one model alias."
                : $"Gateway:Models must define at least one model alias (there is no {file}, where the gateway reads its settings).");
        }

        foreach (var (alias, model) in options.Models)
        {
            var key = $"Gateway:Models:{alias}";
            if (string.IsNullOrWhiteSpace(alias) || alias != alias.Trim())
            {
                // Served, but no caller could name it: 'model' of "" is missing, and "x " is easily sent as "x".
                failures.Add($"{key} is not a usable alias: an alias may not be empty or begin or end with spaces (got {Hosting.ConfigValue.Quoted(alias)}).");
            }

            // A deployment that did not bind (a value of the wrong type drops it) is not a missing one: the configuration's
            // shape check names the value to fix.
            if (model.Deployments.Count == 0 && !configuration.GetSection($"{key}:Deployments").Exists())
            {
                failures.Add($"{key}:Deployments must list at least one deployment.");
            }

            if (model.Pricing is { } pricing)
            {
                if (!double.IsFinite(pricing.InputPerMillion) || pricing.InputPerMillion < 0)
                {
                    failures.Add($"{key}:Pricing:InputPerMillion must be a non-negative number of US dollars.");
                }

                if (!double.IsFinite(pricing.OutputPerMillion) || pricing.OutputPerMillion < 0)
                {
                    failures.Add($"{key}:Pricing:OutputPerMillion must be a non-negative number of US dollars.");
                }
            }

            for (var i = 0; i < model.Deployments.Count; i++)
            {
                var deployment = model.Deployments[i];
                var deploymentKey = $"{key}:Deployments:{i}";
                if (string.IsNullOrWhiteSpace(deployment.Model))
                {
                    failures.Add($"{deploymentKey}:Model is required.");
                }

                // The provider's own clock has the same range.
                if (deployment.FirstTokenTimeoutSeconds is { } firstToken
                    && !(firstToken is >= Resilience.ResilienceOptions.MinClockSeconds and <= Resilience.ResilienceOptions.MaxStreamClockSeconds))
                {
                    failures.Add($"{deploymentKey}:FirstTokenTimeoutSeconds must be between {Resilience.ResilienceOptions.MinClockSeconds} and {Resilience.ResilienceOptions.MaxStreamClockSeconds}.");
                }

                if (!options.Providers.TryGetValue(deployment.Provider, out var provider))
                {
                    // A provider that is configured but did not bind (a value of the wrong type drops its whole entry)
                    // is not unknown: the configuration's shape check names the value to fix.
                    if (!configuration.GetSection($"Gateway:Providers:{deployment.Provider}").Exists())
                    {
                        failures.Add($"{deploymentKey}:Provider names unknown provider '{deployment.Provider}'.");
                    }
                }
                // A missing model is said once, above.
                else if (provider.Type == ProviderOptions.SimulatedType && !string.IsNullOrWhiteSpace(deployment.Model) && !SimulatedModels.IsKnown(deployment.Model))
                {
                    failures.Add($"{deploymentKey}:Model must be one of the simulated models ({string.Join(", ", SimulatedModels.All)}); got {Hosting.ConfigValue.Quoted(deployment.Model)}.");
                }
            }
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
