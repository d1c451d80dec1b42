namespace Gateway.Providers;

/// <summary>The providers and model aliases, bound from the <c>Gateway</c> section.</summary>
internal sealed class RoutingOptions
{
    public const string Section = "Gateway";

    public Dictionary<string, ProviderOptions> Providers { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    public Dictionary<string, ModelOptions> Models { get; set; } = new(ModelRouter.AliasComparer);
}
