using System.Data.Common;
using Gateway.Hosting;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Gateway.Storage;

/// <summary>
/// The PostgreSQL database that the replicas share: one pooled <see cref="NpgsqlDataSource"/> for the process. A
/// single statement runs on a pooled connection of its own; PostgreSQL's row locks, not a gate here, order writers.
/// </summary>
internal sealed class PostgresDatabase : IDisposable, IAsyncDisposable
{
    /// <summary>Seconds to wait for a connection when the connection string names no <c>Timeout</c>: an unreachable server fails start-up and <c>/readyz</c> promptly.</summary>
    public const int DefaultConnectTimeoutSeconds = 5;

    /// <summary>
    /// Connections per process when the connection string names no pool size. Npgsql's own default, 100, is all of
    /// PostgreSQL's default <c>max_connections</c>: two replicas under load would exhaust the server and fail each
    /// other's writes ("too many clients"). The sum over the replicas must stay below the server's limit.
    /// </summary>
    public const int DefaultMaxPoolSize = 30;

    public PostgresDatabase(IOptions<StorageOptions> options)
    {
        NpgsqlConnectionStringBuilder builder;
        try
        {
            builder = new NpgsqlConnectionStringBuilder(options.Value.ConnectionString);
            // The names a setting goes by, spaces and case aside: only what the connection string leaves out is defaulted here.
            var given = new DbConnectionStringBuilder { ConnectionString = options.Value.ConnectionString }.Keys.Cast<string>()
                .Select(static key => key.Replace(" ", "", StringComparison.Ordinal).ToUpperInvariant())
                .ToHashSet(StringComparer.Ordinal);
            if (!given.Contains("TIMEOUT") && !given.Contains("CONNECTTIMEOUT"))
            {
                builder.Timeout = DefaultConnectTimeoutSeconds;
            }

            if (!given.Contains("MAXIMUMPOOLSIZE") && !given.Contains("MAXPOOLSIZE"))
            {
                builder.MaxPoolSize = DefaultMaxPoolSize;
            }
        }
        catch (ArgumentException exception)
        {
            throw new StartupRefusedException(
                $"Gateway:Storage:ConnectionString is not a valid Npgsql connection string: {exception.Message}", exception);
        }

        Description = $"{builder.Host}:{builder.Port}/{builder.Database}";
        DataSource = NpgsqlDataSource.Create(builder);
        _unpooled = NpgsqlDataSource.Create(new NpgsqlConnectionStringBuilder(builder.ConnectionString) { Pooling = false });
        NoticeSource = NpgsqlDataSource.Create(new NpgsqlConnectionStringBuilder(builder.ConnectionString) { MaxPoolSize = 1 });
    }

    /// <summary>
    /// A pool of one connection for <see cref="PostgresEventNotices"/>, which sends one statement at a time: from the
    /// main pool, a notice queued behind the event writers it reports on, and under load came hundreds of ms after its
    /// event.
    /// </summary>
    public NpgsqlDataSource NoticeSource { get; }

    private readonly NpgsqlDataSource _unpooled;

    /// <summary>
    /// A connection outside the pool, whose session ends when it is disposed: for a session lock, which a pooled
    /// connection would carry back into the pool and on into whatever borrows it next.
    /// </summary>
    public ValueTask<NpgsqlConnection> OpenDedicatedConnectionAsync(CancellationToken cancellationToken) =>
        _unpooled.OpenConnectionAsync(cancellationToken);

    /// <summary>host:port/database, for logs and errors (the connection string itself may hold a password).</summary>
    public string Description { get; }

    public NpgsqlDataSource DataSource { get; }

    public void Dispose()
    {
        DataSource.Dispose();
        _unpooled.Dispose();
        NoticeSource.Dispose();
    }

    public async ValueTask DisposeAsync()
    {
        await DataSource.DisposeAsync();
        await _unpooled.DisposeAsync();
        await NoticeSource.DisposeAsync();
    }
}
