using Microsoft.Extensions.Options;

namespace Gateway.Runs;

/// <summary>This process as one replica among those sharing the store: its id, and the leases it takes on runs.</summary>
internal sealed class Replica(IOptions<ClusterOptions> options, TimeProvider timeProvider)
{
    public string Id { get; } = options.Value.ReplicaId ?? $"{Environment.MachineName}-{Guid.NewGuid().ToString("N")[..12]}";

    /// <summary>Whether the id was configured, and so is this replica's across restarts (ids must be unique among live replicas).</summary>
    public bool IsNamed { get; } = options.Value.ReplicaId is not null;

    public TimeSpan LeaseDuration { get; } = options.Value.Lease;

    /// <summary>A lease held by this replica from now for <see cref="LeaseDuration"/>.</summary>
    public RunLease NewLease() => new(Id, timeProvider.GetUtcNow() + LeaseDuration);
}
