namespace Gateway.Providers;

/// <summary>A model alias, bound from <c>Gateway:Models:{alias}</c>: its deployments in priority order.</summary>
internal sealed class ModelOptions
{
    public List<DeploymentOptions> Deployments { get; set; } = [];

    public ModelPricing? Pricing { get; set; }
}

internal sealed class DeploymentOptions
{
    /// <summary>A key of <c>Gateway:Providers</c>.</summary>
    public string Provider { get; set; } = "";

    /// <summary>The model name the provider knows.</summary>
    public string Model { get; set; } = "";

    /// <summary>
    /// This deployment's first-token clock, in place of its provider's <c>Resilience:FirstTokenTimeoutSeconds</c>: for a
    /// model that thinks without streaming its thinking (OpenAI's o-series and gpt-5 on Chat Completions), which sends
    /// nothing until it answers. Null: the provider's.
    /// </summary>
    public double? FirstTokenTimeoutSeconds { get; set; }
}
