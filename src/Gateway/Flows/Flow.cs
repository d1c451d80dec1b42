using System.Text.Json.Serialization;

namespace Gateway.Flows;

/// <summary>
/// A flow as it is saved and returned: a small graph whose edges are implied by references between nodes.
/// Only <see cref="FlowValidator"/> builds one from caller input, so every instance has passed validation.
/// Null fields are left out, so what GET returns can be sent back to PUT unchanged.
/// </summary>
internal sealed record Flow
{
    [JsonPropertyName("id"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? Id { get; init; }
    [JsonPropertyName("name"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? Name { get; init; }
    [JsonPropertyName("description"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? Description { get; init; }
    [JsonPropertyName("nodes")] public required IReadOnlyList<FlowNode> Nodes { get; init; }
}

/// <summary>
/// One node. Which of the optional properties a node may carry is decided by its type's component in
/// <see cref="ComponentCatalog"/>; their JSON names are the component's parameter names.
/// </summary>
internal sealed record FlowNode
{
    [JsonPropertyName("id")] public required string Id { get; init; }
    [JsonPropertyName("type")] public required string Type { get; init; }
    [JsonPropertyName("template"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? Template { get; init; }
    [JsonPropertyName("model"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? Model { get; init; }
    [JsonPropertyName("prompt"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? Prompt { get; init; }
    [JsonPropertyName("system"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? System { get; init; }
    [JsonPropertyName("temperature"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public double? Temperature { get; init; }
    [JsonPropertyName("topP"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public double? TopP { get; init; }
    [JsonPropertyName("maxTokens"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull), JsonConverter(typeof(WholeNumberConverter))]
    public int? MaxTokens { get; init; }
    [JsonPropertyName("stop"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public IReadOnlyList<string>? Stop { get; init; }
    [JsonPropertyName("from"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public IReadOnlyList<string>? From { get; init; }
}
