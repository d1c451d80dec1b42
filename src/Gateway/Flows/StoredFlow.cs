namespace Gateway.Flows;

/// <summary>A saved flow, and its stored document for its tag, worked out only when asked for (a run needs none).</summary>
internal sealed record StoredFlow(Flow Flow, string Document)
{
    public string Tag => FlowTag.Of(Document);
}
