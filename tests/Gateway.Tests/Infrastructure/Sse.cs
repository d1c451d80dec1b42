using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using System.Text.Json.Nodes;

namespace Gateway.Tests.Infrastructure;

/// <summary>Reads an SSE response the way a client does, with the framework's own parser.</summary>
public static class Sse
{
    public static async IAsyncEnumerable<SseItem<string>> ReadAsync(
        HttpResponseMessage response, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
        await foreach (var item in SseParser.Create(stream).EnumerateAsync(cancellationToken))
        {
            yield return item;
        }
    }

    public static async Task<List<string>> ReadAllDataAsync(HttpResponseMessage response, CancellationToken cancellationToken = default)
    {
        var data = new List<string>();
        await foreach (var item in ReadAsync(response, cancellationToken))
        {
            data.Add(item.Data);
        }

        return data;
    }

    /// <summary>The concatenated <c>delta.content</c> of every chunk.</summary>
    public static string Text(IEnumerable<string> data) => string.Concat(
        data.Where(d => d != "[DONE]")
            .Select(d => JsonNode.Parse(d)!)
            .Where(chunk => chunk["choices"] is JsonArray { Count: > 0 })
            .Select(chunk => chunk["choices"]![0]!["delta"]?["content"]?.GetValue<string>() ?? ""));
}
