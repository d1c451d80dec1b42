namespace Gateway.Flows;

/// <summary>Where flows are kept. Every flow handed in has passed validation and has an id.</summary>
internal interface IFlowStore
{
    /// <returns>False when a flow with that id already exists.</returns>
    Task<bool> TryCreateAsync(Flow flow, CancellationToken cancellationToken);

    /// <returns>False when no flow has that id.</returns>
    Task<bool> TryReplaceAsync(Flow flow, CancellationToken cancellationToken);

    Task<Flow?> GetAsync(string id, CancellationToken cancellationToken);

    /// <summary>Every flow, by id.</summary>
    Task<IReadOnlyList<Flow>> ListAsync(CancellationToken cancellationToken);

    /// <returns>False when no flow has that id.</returns>
    Task<bool> DeleteAsync(string id, CancellationToken cancellationToken);
}
