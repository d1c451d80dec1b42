using Gateway.Security;

namespace Gateway.Flows;

/// <summary>
/// The node types a flow may use. The validator, the tweak rules and <c>GET /api/components</c> all read this
/// one list, so what is documented is exactly what is accepted.
/// </summary>
internal static class ComponentCatalog
{
    public const string Input = "input";
    public const string Prompt = "prompt";
    public const string Llm = "llm";
    public const string Output = "output";

    public static IReadOnlyList<Component> All { get; } =
    [
        new(Input, "A text supplied by the run request: `input` when the flow has one input node, else `inputs.{id}`.", []),
        new(Prompt, "Renders a template. `{{name}}` is replaced by the output of the node with that id, or else by the run variable of that name.",
        [
            new("template", ParameterKind.Template, "The text to render.") { Required = true, Tweakable = true },
        ]),
        new(Llm, "Streams a completion from a model alias. Its output is the completion text.",
        [
            new("model", ParameterKind.ModelAlias, "A model alias served by this gateway (see GET /v1/models).") { Required = true, Tweakable = true },
            new("prompt", ParameterKind.NodeReference, "The id of the node whose output is the user message.") { Required = true },
            new("system", ParameterKind.Template, "An optional system message; a template like a prompt node's.") { Tweakable = true },
            new("temperature", ParameterKind.Number, "Sampling temperature.") { Tweakable = true, Minimum = 0, Maximum = 2 },
            new("topP", ParameterKind.Number, "Nucleus sampling mass.") { Tweakable = true, Minimum = 0, Maximum = 1 },
            new("maxTokens", ParameterKind.Integer, "The most tokens to generate.") { Tweakable = true, Minimum = 1, Maximum = LimitsOptions.MaxOutputTokens },
            new("stop", ParameterKind.StringList, "Up to four sequences that end the completion.") { Tweakable = true, MaxItems = 4 },
        ]),
        new(Output, "Names the nodes whose outputs become the run's `outputs`.",
        [
            new("from", ParameterKind.NodeReferenceList, "Ids of the nodes whose outputs the run returns.") { Required = true },
        ]),
    ];

    public static IReadOnlyList<string> Types { get; } = [.. All.Select(c => c.Type)];

    public static Component? Find(string type) => All.FirstOrDefault(c => c.Type == type);

    private static readonly HashSet<string> ParameterNames = [.. All.SelectMany(c => c.Parameters).Select(p => p.Name)];

    /// <summary>Whether some node type takes a parameter of this name (all share one schema in the OpenAPI document).</summary>
    public static bool IsParameterOfAny(string name) => ParameterNames.Contains(name);
}
