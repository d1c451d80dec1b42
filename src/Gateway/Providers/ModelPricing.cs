namespace Gateway.Providers;

/// <summary>
/// What an alias costs, bound from <c>Gateway:Models:{alias}:Pricing</c>, in US dollars per million tokens.
/// Optional: an alias without prices costs nothing in the usage metrics.
/// </summary>
internal sealed class ModelPricing
{
    public double InputPerMillion { get; set; }

    public double OutputPerMillion { get; set; }

    public double CostUsd(long inputTokens, long outputTokens) =>
        (inputTokens * InputPerMillion + outputTokens * OutputPerMillion) / 1_000_000;
}
