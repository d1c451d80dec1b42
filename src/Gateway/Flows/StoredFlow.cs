namespace Gateway.Flows;

/// <summary>A saved flow and its tag (<see cref="FlowTag"/>).</summary>
internal sealed record StoredFlow(Flow Flow, string Tag);

/// <summary>What came of replacing or deleting a saved flow.</summary>
internal enum FlowChangeOutcome
{
    Done,
    NotFound,

    /// <summary>The saved flow's tag did not pass the caller's <c>If-Match</c>: it changed since the caller read it.</summary>
    TagDiffers,
}

/// <param name="Outcome">What came of it.</param>
/// <param name="Tag">The saved flow's tag: the new one after a replace; the one that did not match when refused.</param>
internal readonly record struct FlowChange(FlowChangeOutcome Outcome, string? Tag = null);
