namespace Gateway.Hosting;

internal static class StartupPreparationServiceCollectionExtensions
{
    /// <summary>
    /// Registers one instance of <typeparamref name="T"/> three ways: as itself, as an <see cref="IStartupPreparation"/>
    /// the gateway runs before its host starts, and as a hosted service (whose start finds the work done).
    /// </summary>
    public static IServiceCollection AddPreparedHostedService<T>(this IServiceCollection services)
        where T : class, IStartupPreparation, IHostedService
    {
        services.AddSingleton<T>();
        services.AddSingleton<IStartupPreparation>(provider => provider.GetRequiredService<T>());
        services.AddHostedService(provider => provider.GetRequiredService<T>());
        return services;
    }
}
