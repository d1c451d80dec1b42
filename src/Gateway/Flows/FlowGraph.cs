namespace Gateway.Flows;

/// <summary>
/// A validated flow compiled for running: nodes in an order where every node comes after its inputs, what each
/// node waits for, its parsed templates, and the run variables its templates need.
/// </summary>
internal sealed class FlowGraph
{
    private FlowGraph(
        Flow flow,
        IReadOnlyList<FlowNode> order,
        IReadOnlyDictionary<string, IReadOnlyList<string>> dependencies,
        IReadOnlyDictionary<string, Template> templates,
        IReadOnlyDictionary<string, string> variables)
    {
        Flow = flow;
        Order = order;
        Dependencies = dependencies;
        Templates = templates;
        Variables = variables;
        InputNodes = [.. flow.Nodes.Where(n => n.Type == ComponentCatalog.Input).Select(n => n.Id)];
        OutputIds = [.. flow.Nodes.Where(n => n.Type == ComponentCatalog.Output).SelectMany(n => n.From!).Distinct(StringComparer.Ordinal)];
    }

    public Flow Flow { get; }

    /// <summary>Every node after the nodes it depends on.</summary>
    public IReadOnlyList<FlowNode> Order { get; }

    public IReadOnlyDictionary<string, IReadOnlyList<string>> Dependencies { get; }

    /// <summary>A prompt node's <c>template</c> or an llm node's <c>system</c>, by node id.</summary>
    public IReadOnlyDictionary<string, Template> Templates { get; }

    /// <summary>Template names that are not node ids, each with the first node that uses it.</summary>
    public IReadOnlyDictionary<string, string> Variables { get; }

    public IReadOnlyList<string> InputNodes { get; }

    /// <summary>The ids listed in the output nodes' <c>from</c>: the keys of a run's <c>outputs</c>.</summary>
    public IReadOnlyList<string> OutputIds { get; }

    /// <summary>
    /// Checks references and cycles between <paramref name="nodes"/> (each with the fields that are valid) and
    /// builds the graph when <paramref name="errors"/> is still empty afterwards. <paramref name="allIds"/> holds
    /// every valid id the flow declares, including those of nodes with other problems, so a reference to one is not
    /// reported too (a reference to an id that is not valid is: no node can have it).
    /// <paramref name="unplaced"/> are nodes that cannot be placed in the graph (their id is not valid, or another node
    /// has it first): their references are checked all the same, so that mending the id brings no new problem to light.
    /// </summary>
    public static FlowGraph? Build(
        Flow flow,
        IReadOnlyList<(int Index, FlowNode Node)> nodes,
        IReadOnlyList<(int Index, FlowNode Node)> unplaced,
        IReadOnlySet<string> allIds,
        string nodesPath,
        ValidationErrors errors)
    {
        var byId = nodes.GroupBy(n => n.Node.Id, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);
        var dependencies = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);
        var templates = new Dictionary<string, Template>(StringComparer.Ordinal);
        var variables = new Dictionary<string, string>(StringComparer.Ordinal);

        foreach (var (index, node, placed) in nodes.Select(n => (n.Index, n.Node, true)).Concat(unplaced.Select(n => (n.Index, n.Node, false))))
        {
            var path = $"{nodesPath}[{index}]";
            var references = new List<(string Id, string Path)>();
            switch (node.Type)
            {
                // A field may be missing here: a node with a wrong field still has its references checked.
                case ComponentCatalog.Prompt when node.Template is not null:
                    AddTemplate(node, node.Template, $"{path}.template");
                    break;
                case ComponentCatalog.Llm:
                    if (node.Prompt is not null)
                    {
                        references.Add((node.Prompt, $"{path}.prompt"));
                    }

                    if (node.System is not null)
                    {
                        AddTemplate(node, node.System, $"{path}.system");
                    }

                    break;
                case ComponentCatalog.Output when node.From is not null:
                    references.AddRange(node.From.Select((id, i) => (id, $"{path}.from[{i}]")));
                    break;
                default:
                    break;
            }

            foreach (var (id, referencePath) in references)
            {
                CheckReference(id, referencePath);
            }

            if (!placed)
            {
                continue;
            }

            dependencies[node.Id] = [.. references.Select(r => r.Id).Where(byId.ContainsKey).Distinct(StringComparer.Ordinal)];

            void AddTemplate(FlowNode owner, string text, string templatePath)
            {
                var template = Template.Parse(text);
                if (placed)
                {
                    templates[owner.Id] = template;
                }

                foreach (var name in template.Names)
                {
                    // A node's id is a reference, checked with the others below; any other name is a run variable.
                    if (allIds.Contains(name))
                    {
                        references.Add((name, templatePath));
                    }
                    else if (placed)
                    {
                        variables.TryAdd(name, owner.Id);
                    }
                }
            }
        }

        void CheckReference(string id, string path)
        {
            if (!allIds.Contains(id))
            {
                errors.Add(path, $"No node has the id '{id}'.");
            }
            else if (byId.TryGetValue(id, out var target) && target.Node.Type == ComponentCatalog.Output)
            {
                errors.Add(path, $"Node '{id}' is an output node and has no text to use.");
            }
        }

        var order = TopologicalOrder(nodes, byId, dependencies, nodesPath, errors);
        return errors.IsEmpty ? new FlowGraph(flow, order, dependencies, templates, variables) : null;
    }

    /// <summary>Depth-first: a node is placed once everything it depends on is; a dependency on a node still being visited is a cycle.</summary>
    private static List<FlowNode> TopologicalOrder(
        IReadOnlyList<(int Index, FlowNode Node)> nodes,
        Dictionary<string, (int Index, FlowNode Node)> byId,
        Dictionary<string, IReadOnlyList<string>> dependencies,
        string nodesPath,
        ValidationErrors errors)
    {
        var order = new List<FlowNode>(nodes.Count);
        var placed = new HashSet<string>(StringComparer.Ordinal);
        var visiting = new List<string>();

        foreach (var (_, node) in nodes)
        {
            Visit(node.Id);
        }

        return order;

        void Visit(string id)
        {
            if (placed.Contains(id))
            {
                return;
            }

            var cycleStart = visiting.IndexOf(id);
            if (cycleStart >= 0)
            {
                var cycle = visiting.Skip(cycleStart).Append(id);
                errors.Add($"{nodesPath}[{byId[id].Index}]", $"Nodes form a cycle: {string.Join(" → ", cycle)}.");
                return;
            }

            visiting.Add(id);
            foreach (var dependency in dependencies[id])
            {
                Visit(dependency);
            }

            visiting.RemoveAt(visiting.Count - 1);
            if (placed.Add(id))
            {
                order.Add(byId[id].Node);
            }
        }
    }
}
