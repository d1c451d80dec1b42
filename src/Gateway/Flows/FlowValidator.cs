using System.Text.Json;
using Gateway.Providers;

namespace Gateway.Flows;

/// <summary>A flow that passed validation, compiled; or everything wrong with it.</summary>
internal sealed record FlowValidation(FlowGraph? Graph, ValidationErrors Errors);

/// <summary>
/// Reads a flow from JSON and reports every problem at once, keyed by JSON path. Node fields are checked
/// against <see cref="ComponentCatalog"/>, so an unknown field or a wrong type is named precisely.
/// </summary>
internal sealed class FlowValidator(ModelRouter router)
{
    private static readonly string[] FlowFields = ["id", "name", "description", "nodes"];

    private readonly HashSet<string> _modelAliases = new(router.Aliases, ModelRouter.AliasComparer);

    public IReadOnlySet<string> ModelAliases => _modelAliases;

    /// <param name="flow">The flow document.</param>
    /// <param name="path">Where the document sits in the request: empty for a whole body, <c>flow</c> inside a run request.</param>
    public FlowValidation Validate(JsonElement flow, string path = "")
    {
        var errors = new ValidationErrors();
        if (flow.ValueKind != JsonValueKind.Object)
        {
            errors.Add(path.Length == 0 ? "$" : path, "A flow must be a JSON object.");
            return new FlowValidation(null, errors);
        }

        string? id = null, name = null, description = null;
        JsonElement? nodes = null;
        foreach (var property in flow.EnumerateObject())
        {
            var propertyPath = Join(path, property.Name);
            if (property.Value.ValueKind == JsonValueKind.Null && property.Name is "id" or "name" or "description")
            {
                continue; // not given (GivenFields); "nodes": null is reported as missing below
            }

            switch (property.Name)
            {
                case "id":
                    id = ReadString(property.Value, propertyPath, errors);
                    if (id is not null && !FlowIds.IsValid(id))
                    {
                        errors.Add(propertyPath, $"A flow id {FlowIds.Rule}.");
                    }

                    break;
                case "name":
                    name = ReadString(property.Value, propertyPath, errors);
                    break;
                case "description":
                    description = ReadString(property.Value, propertyPath, errors);
                    break;
                case "nodes":
                    nodes = property.Value;
                    break;
                default:
                    errors.Add(propertyPath, $"Unknown field; a flow has {string.Join(", ", FlowFields)}.");
                    break;
            }
        }

        var nodesPath = Join(path, "nodes");
        if (nodes is not { ValueKind: JsonValueKind.Array } nodeArray)
        {
            errors.Add(nodesPath, nodes is null or { ValueKind: JsonValueKind.Null } ? "Required." : "Must be an array of nodes.");
            return new FlowValidation(null, errors);
        }

        // A run stores every node's record on every node event, so a flow of thousands of nodes costs time that grows
        // with the square of its size (minutes under the body limit). Reported alone: a problem per node would say nothing more.
        if (nodeArray.GetArrayLength() is var count and > FlowLimits.MaxNodes)
        {
            errors.Add(nodesPath, $"A flow may have at most {FlowLimits.MaxNodes} nodes; this one has {count}.");
            return new FlowValidation(null, errors);
        }

        var validNodes = ReadNodes(nodeArray, nodesPath, errors, out var unplaced, out var allIds, out var hasOutput);
        if (!hasOutput)
        {
            errors.Add(nodesPath, "A flow needs at least one output node.");
        }

        var parsed = new Flow { Id = id, Name = name, Description = description, Nodes = [.. validNodes.Select(n => n.Node)] };
        var graph = FlowGraph.Build(parsed, validNodes, unplaced, allIds, nodesPath, errors);
        return new FlowValidation(errors.IsEmpty ? graph : null, errors);
    }

    private List<(int Index, FlowNode Node)> ReadNodes(
        JsonElement nodes,
        string nodesPath,
        ValidationErrors errors,
        out List<(int Index, FlowNode Node)> unplaced,
        out HashSet<string> allIds,
        out bool hasOutput)
    {
        var valid = new List<(int, FlowNode)>();
        unplaced = [];
        var firstIndexOfId = new Dictionary<string, int>(StringComparer.Ordinal);
        hasOutput = false;
        var index = 0;
        foreach (var element in nodes.EnumerateArray())
        {
            var path = $"{nodesPath}[{index}]";
            var node = NodeReader.Read(element, path, _modelAliases, errors);
            hasOutput |= node.Type == ComponentCatalog.Output;
            var unique = true;
            if (node.Id is { } nodeId && !firstIndexOfId.TryAdd(nodeId, index))
            {
                unique = false;
                errors.Add($"{path}.id", $"Duplicate node id '{nodeId}': {nodesPath}[{firstIndexOfId[nodeId]}] has it too.");
            }

            if (node.Node is { } validNode)
            {
                // A node without a valid id of its own cannot be placed in the graph, but its references can be checked.
                (node.Id is not null && unique ? valid : unplaced).Add((index, validNode));
            }

            index++;
        }

        allIds = [.. firstIndexOfId.Keys];
        return valid;
    }

    private static string? ReadString(JsonElement value, string path, ValidationErrors errors)
    {
        if (value.ValueKind == JsonValueKind.String)
        {
            return value.GetString();
        }

        errors.Add(path, "Must be a string.");
        return null;
    }

    private static string Join(string path, string name) => path.Length == 0 ? name : $"{path}.{name}";
}
