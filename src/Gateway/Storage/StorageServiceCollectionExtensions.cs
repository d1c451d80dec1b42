using Gateway.Flows;
using Gateway.Runs;
using Microsoft.Extensions.Options;

namespace Gateway.Storage;

internal static class StorageServiceCollectionExtensions
{
    /// <summary>
    /// The store behind <see cref="IFlowStore"/> and <see cref="IRunStore"/>: SQLite, the only provider so far.
    /// Register before anything whose start-up reads the store: the schema is made in the first start-up step.
    /// </summary>
    public static IServiceCollection AddStorage(this IServiceCollection services)
    {
        services.AddOptions<StorageOptions>()
            .BindConfiguration(StorageOptions.Section)
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<StorageOptions>, StorageOptionsValidator>();
        services.AddSingleton<SqliteDatabase>();
        services.AddSingleton<IFlowStore, SqliteFlowStore>();
        services.AddSingleton<IRunStore, SqliteRunStore>();
        services.AddHostedService<StorageInitializer>();
        return services;
    }
}
