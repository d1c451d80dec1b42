using Microsoft.Extensions.Options;

namespace Gateway.Resilience;

internal static class ResilienceServiceCollectionExtensions
{
    /// <summary>
    /// Binds <c>Gateway:Resilience</c> as the default and, per provider, the same section overlaid with the
    /// provider's own <c>Resilience</c> keys; each is validated at start-up.
    /// </summary>
    public static IServiceCollection AddGatewayResilience(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddSingleton<IValidateOptions<ResilienceOptions>, ResilienceOptionsValidator>();
        services.AddOptions<ResilienceOptions>().BindConfiguration(ResilienceOptions.Section).ValidateOnStart();
        // Named as the copy the pipelines' callers read spells the providers (KeySpelling).
        foreach (var provider in Hosting.KeySpelling.ChildNames(configuration, "Gateway:Providers"))
        {
            services.AddOptions<ResilienceOptions>(provider)
                .BindConfiguration(ResilienceOptions.Section)
                .BindConfiguration($"Gateway:Providers:{provider}:Resilience")
                .ValidateOnStart();
        }

        services.AddSingleton<ProviderPipelines>();
        return services;
    }
}
