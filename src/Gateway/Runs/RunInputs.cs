using System.Text.Json;
using Gateway.Flows;

namespace Gateway.Runs;

/// <summary>Reads a run request's texts: <c>input</c> for a flow's single input node, <c>inputs.{id}</c> for any.</summary>
internal static class RunInputs
{
    public static Dictionary<string, string> Read(JsonElement request, FlowGraph graph, ValidationErrors errors)
    {
        var inputs = ReadStrings(request, "inputs", errors);
        foreach (var id in inputs.Keys.Where(id => !graph.InputNodes.Contains(id)))
        {
            errors.Add($"inputs.{id}", "Not an input node of this flow.");
        }

        if (request.TryGetGiven("input", out var input))
        {
            if (input.ValueKind != JsonValueKind.String)
            {
                errors.Add("input", "Must be a string.");
            }
            else if (graph.InputNodes.Count != 1)
            {
                errors.Add("input", graph.InputNodes.Count == 0
                    ? "This flow has no input node."
                    : $"This flow has several input nodes ({string.Join(", ", graph.InputNodes)}); give each in inputs.");
            }
            else if (!inputs.TryAdd(graph.InputNodes[0], input.GetString()!))
            {
                errors.Add("input", $"Given twice: inputs.{graph.InputNodes[0]} sets it too.");
            }
        }

        // An input given with the wrong type has its error already (so have inputs that are no object); one missing is
        // named where the caller gave the others.
        var inputsGiven = request.TryGetGiven("inputs", out var given);
        var givenInputs = inputsGiven && given.ValueKind == JsonValueKind.Object ? given : default(JsonElement?);
        foreach (var id in graph.InputNodes.Where(id => !inputs.ContainsKey(id) && !request.IsGiven("input") && givenInputs?.TryGetProperty(id, out _) != true
            && !(inputsGiven && givenInputs is null)))
        {
            errors.Add(graph.InputNodes.Count == 1 && givenInputs is null ? "input" : $"inputs.{id}", $"Required: the text for input node '{id}'.");
        }

        return inputs;
    }

    /// <summary>
    /// The checks that need no graph, for a request whose flow is missing or not valid: its own problems are reported
    /// with the flow's, not one round trip later.
    /// </summary>
    public static void CheckShapes(JsonElement request, ValidationErrors errors)
    {
        ReadStrings(request, "inputs", errors);
        ReadStrings(request, "variables", errors);
        if (request.TryGetGiven("input", out var input) && input.ValueKind != JsonValueKind.String)
        {
            errors.Add("input", "Must be a string.");
        }
    }

    /// <summary>An optional object whose values must all be strings.</summary>
    public static Dictionary<string, string> ReadStrings(JsonElement request, string field, ValidationErrors errors)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        if (!request.TryGetGiven(field, out var element))
        {
            return values;
        }

        if (element.ValueKind != JsonValueKind.Object)
        {
            errors.Add(field, "Must be an object of strings.");
            return values;
        }

        foreach (var property in element.EnumerateObject())
        {
            if (property.Value.ValueKind == JsonValueKind.String)
            {
                values[property.Name] = property.Value.GetString()!;
            }
            else
            {
                errors.Add($"{field}.{property.Name}", "Must be a string.");
            }
        }

        return values;
    }
}
