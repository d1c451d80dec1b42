namespace Gateway.Storage;

/// <summary>The configured store's schema: what start-up migrates and what <c>/readyz</c> checks, whichever the provider.</summary>
internal interface IStoreSchema
{
    /// <summary>Which database, for logs and errors; never holds a password.</summary>
    string Description { get; }

    /// <summary>The schema version this build expects.</summary>
    int Version { get; }

    /// <summary>Applies the migrations the database lacks; refuses a database newer than this build.</summary>
    Task MigrateAsync(CancellationToken cancellationToken);

    /// <summary>The version the database is at; throws a <see cref="System.Data.Common.DbException"/> when it cannot be reached.</summary>
    Task<int> ReadVersionAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Why the database, which answered a read, would refuse a write now (locked by another process, read-only), without
    /// writing anything; null when it would take one.
    /// </summary>
    Task<string?> WriteRefusalAsync(CancellationToken cancellationToken);
}
