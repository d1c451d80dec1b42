namespace Gateway.Flows;

/// <summary>What came of replacing or deleting a saved flow.</summary>
internal enum FlowChangeOutcome
{
    Done,
    NotFound,

    /// <summary>The saved flow's tag did not meet the caller's preconditions (<see cref="FlowConditions"/>).</summary>
    TagDiffers,
}

/// <param name="Outcome">What came of it.</param>
/// <param name="Tag">The saved flow's tag: the new one after a replace; the one that did not meet the preconditions when refused.</param>
internal readonly record struct FlowChange(FlowChangeOutcome Outcome, string? Tag = null);
