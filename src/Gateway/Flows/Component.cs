namespace Gateway.Flows;

/// <summary>What a parameter's value must be; decides both its validation and its JSON schema.</summary>
internal enum ParameterKind
{
    /// <summary>A string with <c>{{name}}</c> placeholders.</summary>
    Template,

    /// <summary>A model alias from <c>Gateway:Models</c>.</summary>
    ModelAlias,

    /// <summary>The id of another node.</summary>
    NodeReference,

    /// <summary>A non-empty array of ids of other nodes.</summary>
    NodeReferenceList,

    /// <summary>A number within <see cref="ComponentParameter.Minimum"/> and <see cref="ComponentParameter.Maximum"/>.</summary>
    Number,

    /// <summary>A whole number of at least <see cref="ComponentParameter.Minimum"/>.</summary>
    Integer,

    /// <summary>An array of at most <see cref="ComponentParameter.MaxItems"/> strings.</summary>
    StringList,
}

/// <summary>One parameter a node type accepts.</summary>
/// <param name="Name">The JSON property name on the node.</param>
/// <param name="Kind">What its value must be.</param>
/// <param name="Description">Shown in the component catalog.</param>
internal sealed record ComponentParameter(string Name, ParameterKind Kind, string Description)
{
    public bool Required { get; init; }

    /// <summary>Whether a run may override it through <c>tweaks</c>; graph references never are.</summary>
    public bool Tweakable { get; init; }

    public double? Minimum { get; init; }

    public double? Maximum { get; init; }

    public int? MaxItems { get; init; }
}

/// <summary>A node type: what it does and the parameters it declares.</summary>
internal sealed record Component(string Type, string Description, IReadOnlyList<ComponentParameter> Parameters)
{
    public ComponentParameter? Find(string name) => Parameters.FirstOrDefault(p => p.Name == name);
}
