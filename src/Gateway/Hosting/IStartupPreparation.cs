namespace Gateway.Hosting;

/// <summary>
/// Work the gateway does before its host starts (<see cref="GatewayHostingExtensions.StartGatewayAsync"/>), so that a
/// refusal there (a store it cannot use, a replica id another process holds) stops start-up with its reason said once,
/// not also logged by the host with a stack trace. Each also runs it from the host's start, where it is done already.
/// </summary>
internal interface IStartupPreparation
{
    /// <summary>Prepares, once; a second call does nothing.</summary>
    Task PrepareAsync(CancellationToken cancellationToken);
}
