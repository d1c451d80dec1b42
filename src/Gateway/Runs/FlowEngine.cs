namespace Gateway.Runs;

/// <summary>Turns a checked <see cref="RunPlan"/> into a <see cref="FlowRun"/> with a new id.</summary>
internal sealed class FlowEngine(LlmNodeRunner llm, TimeProvider timeProvider, ILogger<FlowEngine> logger)
{
    public FlowRun Create(RunPlan plan, string owner)
    {
        var graph = plan.Graph;
        var state = new RunState(
            RunIds.New(), graph.Flow.Id, timeProvider.GetUtcNow(), graph.Flow.Nodes.Select(n => n.Id), graph.OutputIds);
        return new FlowRun(plan, state, owner, llm, timeProvider, logger);
    }
}
