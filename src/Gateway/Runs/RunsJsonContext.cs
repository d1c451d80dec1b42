using System.Text.Json.Serialization;

namespace Gateway.Runs;

/// <summary>Run records and events always carry every field, null or not, so clients see one shape.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(RunRecord))]
[JsonSerializable(typeof(IReadOnlyList<RunRecord>))]
[JsonSerializable(typeof(IAsyncEnumerable<RunRecord>))]
[JsonSerializable(typeof(RunStartedEvent))]
[JsonSerializable(typeof(NodeStartedEvent))]
[JsonSerializable(typeof(TokenEvent))]
[JsonSerializable(typeof(NodeRetryingEvent))]
[JsonSerializable(typeof(NodeCompletedEvent))]
[JsonSerializable(typeof(NodeFailedEvent))]
[JsonSerializable(typeof(UsageReport))]
[JsonSerializable(typeof(string[]))]
internal sealed partial class RunsJsonContext : JsonSerializerContext;
