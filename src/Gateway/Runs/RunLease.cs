namespace Gateway.Runs;

/// <summary>
/// Which replica executes a run, and until when that claim holds unless renewed. A replica renews the leases of its
/// runs while it lives; a running run whose lease has lapsed was cut off with its replica.
/// </summary>
/// <param name="Replica">The executing replica's id (<c>Gateway:Cluster:ReplicaId</c>).</param>
/// <param name="ExpiresAt">When the claim lapses.</param>
internal sealed record RunLease(string Replica, DateTimeOffset ExpiresAt);
