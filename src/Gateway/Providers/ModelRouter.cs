using Microsoft.Extensions.AI;
using Microsoft.Extensions.Options;

namespace Gateway.Providers;

/// <summary>A model behind an alias: which provider serves it, under which name.</summary>
/// <param name="Provider">The provider's name, as its own section spells it.</param>
/// <param name="Model">The model name the provider knows.</param>
/// <param name="Client">The provider's client.</param>
/// <param name="FirstTokenTimeout">Its own first-token clock (<see cref="DeploymentOptions.FirstTokenTimeoutSeconds"/>), or null for its provider's.</param>
internal sealed record Deployment(string Provider, string Model, IChatClient Client, TimeSpan? FirstTokenTimeout = null);

/// <summary>An alias, its deployments in priority order and its prices, if configured.</summary>
internal sealed record ModelRoute(string Alias, IReadOnlyList<Deployment> Deployments, ModelPricing? Pricing = null);

/// <summary>Resolves model aliases to their deployments.</summary>
internal sealed class ModelRouter
{
    /// <summary>
    /// How aliases compare: ignoring case, as configuration keys do. The sources merge an alias's keys so (an override
    /// <c>GATEWAY__MODELS__ECHO__PRICING__...</c> and the file's <c>echo</c> are one alias), and the merged alias is
    /// spelled as any one of them: matched by exact case, an override of one price renamed <c>echo</c> to <c>ECHO</c>,
    /// and every caller, flow and key naming <c>echo</c> was refused. Two aliases can never differ by case alone.
    /// </summary>
    public static readonly StringComparer AliasComparer = StringComparer.OrdinalIgnoreCase;

    private readonly Dictionary<string, ModelRoute> _routes = new(AliasComparer);

    public ModelRouter(IOptions<RoutingOptions> options, ProviderRegistry providers)
    {
        foreach (var (alias, model) in options.Value.Models)
        {
            var deployments = model.Deployments
                .Select(d => new Deployment(
                    ConfiguredName(options.Value, d.Provider), d.Model, providers.Get(d.Provider),
                    d.FirstTokenTimeoutSeconds is { } seconds ? TimeSpan.FromSeconds(seconds) : null))
                .ToArray();
            _routes[alias] = new ModelRoute(alias, deployments, model.Pricing);
        }

        Aliases = [.. _routes.Keys.Order(StringComparer.Ordinal)];
    }

    public IReadOnlyList<string> Aliases { get; }

    /// <summary>
    /// The provider's name as its own section spells it: a deployment may name it in another case, and its resilience
    /// settings (named options, looked up by exact name) and its metrics go by this one. Written <c>LOCAL</c> for a
    /// provider configured as <c>local</c>, a deployment silently got the default settings.
    /// </summary>
    public static string ConfiguredName(RoutingOptions options, string provider) =>
        options.Providers.Keys.FirstOrDefault(name => string.Equals(name, provider, StringComparison.OrdinalIgnoreCase)) ?? provider;

    public bool TryGetRoute(string alias, out ModelRoute route) => _routes.TryGetValue(alias, out route!);
}
