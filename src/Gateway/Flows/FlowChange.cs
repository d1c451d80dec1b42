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
internal readonly record struct FlowChange(FlowChangeOutcome Outcome, string? Tag = null)
{
    /// <summary>
    /// Why a change with <paramref name="precondition"/> may not go ahead on the flow whose stored document is
    /// <paramref name="current"/> (null: no such flow); null when it may.
    /// </summary>
    public static FlowChange? FailedPrecondition(string? current, Func<string, bool> precondition)
    {
        if (current is null)
        {
            return new FlowChange(FlowChangeOutcome.NotFound);
        }

        var tag = FlowTag.Of(current);
        return precondition(tag) ? null : new FlowChange(FlowChangeOutcome.TagDiffers, tag);
    }
}
