using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace Gateway.Tests.Infrastructure;

public static class Json
{
    public static HttpContent Body(string json) => new StringContent(json, System.Text.Encoding.UTF8, "application/json");

    public static HttpContent ChatRequest(string model, string userMessage, bool stream, bool includeUsage = false, int? maxTokens = null)
    {
        var request = new JsonObject
        {
            ["model"] = model,
            ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = userMessage }),
            ["stream"] = stream,
        };
        if (includeUsage)
        {
            request["stream_options"] = new JsonObject { ["include_usage"] = true };
        }

        if (maxTokens is not null)
        {
            request["max_tokens"] = maxTokens;
        }

        return JsonContent.Create(request);
    }

    public static async Task<JsonNode> ReadAsync(HttpResponseMessage response) =>
        JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
}
