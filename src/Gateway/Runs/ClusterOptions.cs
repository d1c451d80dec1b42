using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace Gateway.Runs;

/// <summary>
/// How this replica shares runs with others over a shared store, bound from <c>Gateway:Cluster</c>. With the
/// embedded SQLite store there is one replica and these only set how often leases are written.
/// </summary>
internal sealed class ClusterOptions
{
    public const string Section = "Gateway:Cluster";

    /// <summary>
    /// This replica's name in run leases and logs. Unset, each process makes up a new one, so a restarted replica
    /// cannot tell its own cut-off runs from another's and waits for their leases to lapse like everyone else.
    /// </summary>
    [RegularExpression("^[A-Za-z0-9._:-]{1,100}$", ErrorMessage = "Gateway:Cluster:ReplicaId must be 1 to 100 letters, digits or . _ : -.")]
    public string? ReplicaId { get; set; }

    /// <summary>How long a run's lease lasts unless its replica renews it (every third of this): how soon a dead replica's runs become interrupted.</summary>
    [Range(1.0, 3_600.0, ErrorMessage = "Gateway:Cluster:LeaseSeconds must be between 1 and 3600.")]
    public double LeaseSeconds { get; set; } = 15;

    /// <summary>How often a replica following another's run reads the store when no notification came: the bound on a lost notification's delay.</summary>
    [Range(50, 60_000, ErrorMessage = "Gateway:Cluster:PollMilliseconds must be between 50 and 60000.")]
    public int PollMilliseconds { get; set; } = 1_000;

    public TimeSpan Lease => TimeSpan.FromSeconds(LeaseSeconds);

    public TimeSpan Poll => TimeSpan.FromMilliseconds(PollMilliseconds);
}

[OptionsValidator]
internal sealed partial class ClusterOptionsValidator : IValidateOptions<ClusterOptions>;
