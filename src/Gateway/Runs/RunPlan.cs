using Gateway.Flows;

namespace Gateway.Runs;

/// <summary>Everything a run needs, checked: the compiled flow (tweaks applied), a text for every input node, the variables.</summary>
internal sealed record RunPlan(
    FlowGraph Graph,
    IReadOnlyDictionary<string, string> Inputs,
    IReadOnlyDictionary<string, string> Variables);
