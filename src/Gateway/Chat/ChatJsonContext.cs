using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using Gateway.Security;

namespace Gateway.Chat;

[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(ChatCompletionRequest))]
[JsonSerializable(typeof(ChatCompletionChunk))]
[JsonSerializable(typeof(ChatCompletion))]
[JsonSerializable(typeof(ModelList))]
[JsonSerializable(typeof(OpenAiErrorResponse))]
internal sealed partial class ChatJsonContext : JsonSerializerContext
{
    /// <summary>
    /// The wire format: minimal escaping, as OpenAI sends it, so text such as <c>don't</c> or <c>naïve</c> stays
    /// readable and no bigger than it is. The payload is JSON in a JSON or SSE body, never HTML.
    /// </summary>
    public static ChatJsonContext Wire { get; } = new(new JsonSerializerOptions
    {
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        MaxDepth = LimitsOptions.MaxJsonDepth,
        // As /api refuses them (JsonBody): a proxy in front that reads the first "model" must not see another call
        // than the one the gateway makes with the last.
        AllowDuplicateProperties = false,
    });
}
