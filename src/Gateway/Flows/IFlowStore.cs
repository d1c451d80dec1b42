namespace Gateway.Flows;

/// <summary>
/// Where flows are kept. Every flow handed in has passed validation and has an id. A flow's tag is that of its stored
/// document (<see cref="FlowTag"/>).
/// </summary>
internal interface IFlowStore
{
    /// <returns>The saved flow's tag; null when a flow with that id already exists.</returns>
    Task<string?> TryCreateAsync(Flow flow, CancellationToken cancellationToken);

    /// <param name="flow">The flow to save in place of the one with its id.</param>
    /// <param name="precondition">
    /// The test the saved flow's tag must pass, checked atomically with the write (<see cref="FlowConditions.AllowWrite"/>);
    /// null: none.
    /// </param>
    /// <param name="cancellationToken">The caller's.</param>
    Task<FlowChange> ReplaceAsync(Flow flow, Func<string, bool>? precondition, CancellationToken cancellationToken);

    Task<StoredFlow?> GetAsync(string id, CancellationToken cancellationToken);

    /// <summary>Every flow, by id.</summary>
    Task<IReadOnlyList<Flow>> ListAsync(CancellationToken cancellationToken);

    /// <param name="id">The flow's id.</param>
    /// <param name="precondition">As <see cref="ReplaceAsync"/>'s.</param>
    /// <param name="cancellationToken">The caller's.</param>
    Task<FlowChange> DeleteAsync(string id, Func<string, bool>? precondition, CancellationToken cancellationToken);
}
