using Gateway.Providers.OpenAI;
using Gateway.Resilience;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Gateway.Providers;

internal static class ProvidersServiceCollectionExtensions
{
    /// <summary>
    /// Binds and validates <c>Gateway:Providers</c> and <c>Gateway:Models</c>, and gives every OpenAI-compatible
    /// provider its own <see cref="HttpClient"/> with its resilience pipeline.
    /// </summary>
    public static IServiceCollection AddProviders(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<RoutingOptions>()
            .BindConfiguration(RoutingOptions.Section)
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<RoutingOptions>, RoutingOptionsValidator>();
        services.AddSingleton<Hosting.IStartupPreparation, ProviderKeyCheck>();
        services.AddSingleton<Hosting.IStartupPreparation, DeploymentClockCheck>();
        services.TryAddSingleton(TimeProvider.System);
        services.AddTransient<UpstreamNormalizingHandler>();
        services.AddGatewayResilience(configuration);

        // Spelled as the copy the registry reads spells them (KeySpelling): the client is found under the name it has here.
        foreach (var provider in Hosting.KeySpelling.ChildNames(configuration, $"{RoutingOptions.Section}:Providers"))
        {
            services.AddHttpClient(ProviderRegistry.HttpClientName(provider), client =>
                {
                    // Streams may legitimately run for minutes; the gateway's own timeouts bound them instead.
                    client.Timeout = Timeout.InfiniteTimeSpan;
                })
                .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler
                {
                    // One long-lived handler per provider, recycled by connection age so DNS changes are seen.
                    PooledConnectionLifetime = TimeSpan.FromMinutes(5),
                    ConnectTimeout = TimeSpan.FromSeconds(10),
                    // One client serves every caller: a cookie an upstream sets (a load balancer's, say) must not
                    // ride along on other callers' requests. And an API call is not redirected: a 3xx is reported
                    // as the upstream's answer, not followed (a POST turned GET, or a key sent to another host).
                    UseCookies = false,
                    AllowAutoRedirect = false,
                    // A stream the gateway gives up on (its caller left while a chunk was being written, a chunk was
                    // malformed) is disposed unread. The handler then reads on to keep the connection, by default for
                    // up to 2 s, while the model goes on generating. After [DONE] only the body's last bytes are left,
                    // so a short drain still keeps the connection of every stream that ended well.
                    ResponseDrainTimeout = TimeSpan.FromMilliseconds(100),
                    // The trace goes upstream; the caller's baggage does not.
                    ActivityHeadersPropagator = TraceContextOnly.Propagator,
                })
                .SetHandlerLifetime(Timeout.InfiniteTimeSpan)
                // The factory's per-request log scope and timings (two handlers, a scope and a state machine per call)
                // would add to every model call; the gateway's own summary line and metrics already record each one.
                .RemoveAllLoggers()
                // Outermost first: the pipeline retries whole HTTP attempts; the normaliser sits on each response.
                .AddHttpMessageHandler(services => new ResilienceHandler(provider, services.GetRequiredService<ProviderPipelines>()))
                .AddHttpMessageHandler<UpstreamNormalizingHandler>();
        }

        services.AddSingleton<ProviderRegistry>();
        services.AddSingleton<ModelRouter>();
        services.AddSingleton<RoutedChat>();
        return services;
    }
}
