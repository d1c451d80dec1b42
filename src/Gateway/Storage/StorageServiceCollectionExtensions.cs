using Gateway.Flows;
using Gateway.Hosting;
using Gateway.Runs;
using Gateway.Security;
using Microsoft.Extensions.Options;

namespace Gateway.Storage;

internal static class StorageServiceCollectionExtensions
{
    /// <summary>
    /// The store behind <see cref="IFlowStore"/> and <see cref="IRunStore"/>, chosen by <c>Gateway:Storage:Provider</c>:
    /// SQLite (the default) or PostgreSQL, which also keeps <see cref="PostgresRateBuckets"/>. Register before anything
    /// whose start-up reads the store: the schema is made in the first start-up step.
    /// </summary>
    public static IServiceCollection AddStorage(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<StorageOptions>()
            .BindConfiguration(StorageOptions.Section)
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<StorageOptions>, StorageOptionsValidator>();
        // An unknown provider falls through to SQLite's services here and is refused by validation at start-up.
        if (configuration[$"{StorageOptions.Section}:Provider"] == StorageOptions.Postgres)
        {
            services.AddSingleton<PostgresDatabase>();
            services.AddSingleton<IStoreSchema, PostgresSchema>();
            services.AddSingleton<IFlowStore, PostgresFlowStore>();
            services.AddSingleton<PostgresEventNotices>();
            services.AddSingleton<IRunStore, PostgresRunStore>();
            services.AddSingleton<PostgresRateBuckets>();
            // Every replica draws on the same rate buckets and hears about the others' runs.
            services.AddSingleton<IRateBuckets>(provider => new ResilientRateBuckets(
                provider.GetRequiredService<PostgresRateBuckets>(),
                new LocalRateBuckets(provider.GetRequiredService<TimeProvider>()),
                provider.GetRequiredService<TimeProvider>(),
                provider.GetRequiredService<ILogger<ResilientRateBuckets>>()));
            services.AddSingleton<PostgresRunSignals>();
            services.AddSingleton<IRunSignals>(provider => provider.GetRequiredService<PostgresRunSignals>());
            services.AddHostedService(provider => provider.GetRequiredService<PostgresRunSignals>());
        }
        else
        {
            services.AddSingleton<SqliteDatabase>();
            services.AddSingleton<IStoreSchema, SqliteSchema>();
            services.AddSingleton<IFlowStore, SqliteFlowStore>();
            services.AddSingleton<IRunStore, SqliteRunStore>();
            services.AddHostedService<SqliteDamageCheck>();
        }

        services.AddPreparedHostedService<StorageInitializer>();
        if (configuration[$"{StorageOptions.Section}:Provider"] == StorageOptions.Postgres)
        {
            // After the schema, before the run leases: a copied replica id is refused before it gives up any lease.
            services.AddPreparedHostedService<ReplicaIdLock>();
        }

        services.AddHostedService<RunPruner>();
        return services;
    }
}
