using Gateway.Streaming;
using Microsoft.Extensions.Options;

namespace Gateway.Runs;

internal static class RunsServiceCollectionExtensions
{
    /// <summary>The run engine, its log keeper, the live runs and their streaming settings. Register after <c>AddStorage</c>.</summary>
    public static IServiceCollection AddRuns(this IServiceCollection services)
    {
        services.AddOptions<StreamingOptions>().BindConfiguration(StreamingOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<StreamingOptions>, StreamingOptionsValidator>();
        services.AddSingleton<RunPlanner>();
        services.AddSingleton<LlmNodeRunner>();
        services.AddSingleton<FlowEngine>();
        services.AddSingleton<RunCoordinator>();
        services.AddSingleton<RunLauncher>();
        services.AddSingleton<LiveRuns>();
        services.AddHostedService(provider => provider.GetRequiredService<LiveRuns>());
        services.AddHostedService<InterruptedRuns>();
        services.ConfigureHttpJsonOptions(options => options.SerializerOptions.TypeInfoResolverChain.Add(RunsJsonContext.Default));
        return services;
    }
}
