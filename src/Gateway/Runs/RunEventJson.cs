using System.Text.Encodings.Web;
using System.Text.Json;

namespace Gateway.Runs;

/// <summary>An event's data as it is logged and sent: one line of JSON; a terminal event's data is the run record.</summary>
internal static class RunEventJson
{
    /// <summary>
    /// Minimal escaping, as for /v1: model text such as <c>don't</c> or <c>naïve</c> stays readable. The payload is
    /// JSON in an SSE or JSON body, never HTML; JSON escapes line breaks, so the data is always one line.
    /// </summary>
    private static readonly RunsJsonContext Wire = new(new JsonSerializerOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping });

    public static string Serialize(RunEvent runEvent) => runEvent is RunFinishedEvent finished
        ? JsonSerializer.Serialize(finished.Run, Wire.RunRecord)
        : JsonSerializer.Serialize(runEvent, runEvent.GetType(), Wire);

    /// <summary>The record in a terminal event's data.</summary>
    public static RunRecord DeserializeRecord(string data) =>
        JsonSerializer.Deserialize(data, Wire.RunRecord) ?? throw new JsonException("A terminal event's data is empty.");
}
