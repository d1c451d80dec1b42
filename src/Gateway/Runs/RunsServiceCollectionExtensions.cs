using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Gateway.Runs;

internal static class RunsServiceCollectionExtensions
{
    /// <summary>The run engine, its log keeper and the live runs. Register after <c>AddStorage</c> and <c>AddStreaming</c>.</summary>
    public static IServiceCollection AddRuns(this IServiceCollection services)
    {
        services.AddOptions<ClusterOptions>().BindConfiguration(ClusterOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<ClusterOptions>, ClusterOptionsValidator>();
        services.AddSingleton<Replica>();
        services.AddSingleton<RunPlanner>();
        services.AddSingleton<LlmNodeRunner>();
        services.AddSingleton<FlowEngine>();
        services.AddSingleton<RunCoordinator>();
        services.AddSingleton<RunEnder>();
        services.AddSingleton<RunLauncher>();
        services.AddSingleton<RunsPerKey>();
        services.AddSingleton<LiveRuns>();
        services.TryAddSingleton<IRunSignals, LocalRunSignals>();
        // Hosted services stop in the reverse order of these lines: the leases are renewed until the live runs have
        // drained and ended, so no other replica takes a run over while it still runs here.
        services.AddHostedService<RunLeases>();
        services.AddHostedService(provider => provider.GetRequiredService<LiveRuns>());
        services.ConfigureHttpJsonOptions(options => options.SerializerOptions.TypeInfoResolverChain.Add(RunsJsonContext.Default));
        return services;
    }
}
