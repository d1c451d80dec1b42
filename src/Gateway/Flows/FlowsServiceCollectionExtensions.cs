namespace Gateway.Flows;

internal static class FlowsServiceCollectionExtensions
{
    /// <summary>The flow validator and the flow JSON types; the store itself comes from <c>AddStorage</c>.</summary>
    public static IServiceCollection AddFlows(this IServiceCollection services)
    {
        services.AddSingleton<FlowValidator>();
        services.ConfigureHttpJsonOptions(options => options.SerializerOptions.TypeInfoResolverChain.Add(FlowsJsonContext.Default));
        return services;
    }
}
