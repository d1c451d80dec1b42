using System.Text.Json;
using Gateway.Flows;

namespace Gateway.Runs;

/// <summary>A run that may start, or everything wrong with its request.</summary>
internal sealed record RunPlanning(RunPlan? Plan, ValidationErrors Errors);

/// <summary>
/// Checks a run request against its flow: tweaks, then the tweaked flow (validated again, since the store's copy
/// was checked against the configuration of its day), then a text for every input node and every variable the
/// templates use. Every problem is reported at once, keyed by its path in the request (a saved flow's own, by its path
/// in the flow).
/// </summary>
internal sealed class RunPlanner(FlowValidator validator)
{
    private static readonly string[] SavedFlowFields = ["input", "inputs", "variables", "tweaks"];
    private static readonly string[] InlineFlowFields = ["flow", .. SavedFlowFields];

    /// <param name="request">The run request body.</param>
    /// <param name="savedFlow">The saved flow's document; null when the request carries its own <c>flow</c>.</param>
    public RunPlanning Plan(JsonElement request, JsonElement? savedFlow)
    {
        var errors = new ValidationErrors();
        if (request.ValueKind != JsonValueKind.Object)
        {
            errors.Add("$", "The run request must be a JSON object.");
            return new RunPlanning(null, errors);
        }

        var fields = savedFlow is null ? InlineFlowFields : SavedFlowFields;
        foreach (var property in request.EnumerateObject().Where(p => !fields.Contains(p.Name)))
        {
            errors.Add(property.Name, $"Unknown field; a run request has {string.Join(", ", fields)}.");
        }

        var flow = savedFlow ?? (request.TryGetGiven("flow", out var inline) ? inline : default(JsonElement?));
        if (flow is not { } flowDocument)
        {
            errors.Add("flow", "Required: the flow to run.");
            RunInputs.CheckShapes(request, errors);
            return new RunPlanning(null, errors);
        }

        if (request.TryGetGiven("tweaks", out var tweaks))
        {
            flowDocument = Tweaks.Apply(flowDocument, tweaks, validator.ModelAliases, errors);
        }

        var validation = validator.Validate(flowDocument, savedFlow is null ? "flow" : "");
        if (validation.Graph is not { } graph)
        {
            RunInputs.CheckShapes(request, errors);
            if (savedFlow is not { } saved)
            {
                return new RunPlanning(null, Merge(errors, validation.Errors));
            }

            // A problem the saved flow has without the tweaks is its own, not theirs.
            var tweaked = tweaks.ValueKind == JsonValueKind.Object && tweaks.EnumerateObject().Any();
            var own = tweaked ? validator.Validate(saved, "").Errors.ToDictionary() : null;
            return new RunPlanning(null, MergeSaved(errors, validation.Errors, own));
        }

        var inputs = RunInputs.Read(request, graph, errors);
        var variables = ReadVariables(request, graph, errors);
        return errors.IsEmpty ? new RunPlanning(new RunPlan(graph, inputs, variables), errors) : new RunPlanning(null, errors);
    }

    private static Dictionary<string, string> ReadVariables(JsonElement request, FlowGraph graph, ValidationErrors errors)
    {
        var variables = RunInputs.ReadStrings(request, "variables", errors);
        var variablesGiven = request.TryGetGiven("variables", out var element);
        if (variablesGiven && element.ValueKind != JsonValueKind.Object)
        {
            return variables; // its shape's error says it all
        }

        var given = variablesGiven ? element.EnumerateObject().Select(p => p.Name).ToHashSet(StringComparer.Ordinal) : [];
        foreach (var (name, nodeId) in graph.Variables.Where(v => !given.Contains(v.Key)))
        {
            errors.Add($"variables.{name}", $"Required: node '{nodeId}' uses {{{{{name}}}}}, which is not a node id, so the run must supply it.");
        }

        return variables;
    }

    /// <summary>
    /// A saved flow's problems are its own (a model the configuration no longer has), keyed by their path in the flow
    /// (<c>nodes[1].model</c>) as saving it would key them; or the tweaks' doing (a template tweaked into a cycle, say),
    /// under <c>tweaks</c>, naming where in the flow.
    /// </summary>
    /// <param name="into">The request's problems so far.</param>
    /// <param name="from">The problems of the flow as it would run.</param>
    /// <param name="own">With tweaks, the saved flow's problems without them; null without tweaks (all are its own).</param>
    private static ValidationErrors MergeSaved(ValidationErrors into, ValidationErrors from, Dictionary<string, string[]>? own)
    {
        foreach (var (path, messages) in from.ToDictionary())
        {
            var inFlow = path is "" or "$" ? "$" : path;
            foreach (var message in messages)
            {
                if (own is null || (own.TryGetValue(path, out var before) && before.Contains(message)))
                {
                    into.Add(inFlow, $"The saved flow is not valid: {message}");
                }
                else
                {
                    into.Add("tweaks", $"The saved flow, as tweaked, is not valid{(inFlow == "$" ? "" : $" at {inFlow}")}: {message}");
                }
            }
        }

        return into;
    }

    private static ValidationErrors Merge(ValidationErrors into, ValidationErrors from)
    {
        foreach (var (path, messages) in from.ToDictionary())
        {
            foreach (var message in messages)
            {
                into.Add(path, message);
            }
        }

        return into;
    }
}
