using System.Net.Http.Headers;
using System.Text.Json.Nodes;

namespace Gateway.Tests.Infrastructure;

/// <summary>One event of a run's SSE stream as a client sees it.</summary>
public sealed record RunEventItem(long Id, string Name, JsonNode Data)
{
    public string? Node => Data["node"]?.GetValue<string>();
}

/// <summary>Starts runs and reads their event streams the way a browser or curl client would.</summary>
public static class RunClient
{
    public static readonly string[] TerminalEvents = ["run.completed", "run.failed", "run.cancelled"];

    public static HttpRequestMessage Request(string path, string body)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = Json.Body(body) };
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
        return request;
    }

    public static async Task<(HttpResponseMessage Response, List<RunEventItem> Events)> RunAsync(HttpClient client, string path, string body)
    {
        var response = await client.SendAsync(Request(path, body), HttpCompletionOption.ResponseHeadersRead);
        return (response, await ReadAllAsync(response));
    }

    public static async Task<List<RunEventItem>> ReadAllAsync(HttpResponseMessage response)
    {
        var events = new List<RunEventItem>();
        await foreach (var item in Sse.ReadAsync(response))
        {
            events.Add(new RunEventItem(long.Parse(item.EventId!, System.Globalization.CultureInfo.InvariantCulture), item.EventType, JsonNode.Parse(item.Data)!));
        }

        return events;
    }

    /// <summary>The concatenated text of one node's token events.</summary>
    public static string Tokens(IEnumerable<RunEventItem> events, string node) =>
        string.Concat(events.Where(e => e.Name == "token" && e.Node == node).Select(e => e.Data["text"]!.GetValue<string>()));
}
