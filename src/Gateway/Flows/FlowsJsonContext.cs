using System.Text.Json.Serialization;

namespace Gateway.Flows;

[JsonSerializable(typeof(Flow))]
[JsonSerializable(typeof(IReadOnlyList<Flow>))]
[JsonSerializable(typeof(IReadOnlyList<ComponentInfo>))]
[JsonSerializable(typeof(System.Text.Json.Nodes.JsonObject))]
internal sealed partial class FlowsJsonContext : JsonSerializerContext;
