using System.ComponentModel.DataAnnotations;
using System.Text.Json.Serialization;

namespace Gateway.Chat;

/// <summary>The OpenAI error body, <c>{"error":{"message","type","param","code"}}</c>, used on every /v1 failure.</summary>
internal sealed record OpenAiErrorResponse([property: JsonPropertyName("error"), Required] OpenAiError Error);

internal sealed record OpenAiError
{
    [JsonPropertyName("message")] public required string Message { get; init; }
    [JsonPropertyName("type")] public required string Type { get; init; }

    [JsonPropertyName("param")]
    [JsonIgnore(Condition = JsonIgnoreCondition.Never)]
    public string? Param { get; init; }

    [JsonPropertyName("code")]
    [JsonIgnore(Condition = JsonIgnoreCondition.Never)]
    public string? Code { get; init; }
}
