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

    /// <summary>
    /// The body of an inline run whose one llm node, <c>talk</c>, streams <paramref name="maxTokens"/> lorem-ipsum
    /// words: a run that lasts as long as a test needs it to.
    /// </summary>
    public static string LoremRun(int maxTokens) => $$"""
        {"flow":{"id":"long","nodes":[{"id":"in","type":"input"},{"id":"talk","type":"llm","model":"lorem","prompt":"in","maxTokens":{{maxTokens}}},
          {"id":"out","type":"output","from":["talk"]}]},"input":"go"}
        """;

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
        await foreach (var item in ReadAsync(response))
        {
            events.Add(item);
        }

        return events;
    }

    public static async IAsyncEnumerable<RunEventItem> ReadAsync(HttpResponseMessage response)
    {
        await foreach (var item in Sse.ReadAsync(response))
        {
            yield return new RunEventItem(long.Parse(item.EventId!, System.Globalization.CultureInfo.InvariantCulture), item.EventType, JsonNode.Parse(item.Data)!);
        }
    }

    /// <summary>Opens <c>GET /api/runs/{runId}/events</c>, resuming after <paramref name="lastEventId"/> when given.</summary>
    public static Task<HttpResponseMessage> WatchAsync(HttpClient client, string runId, long? lastEventId = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, $"/api/runs/{runId}/events");
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
        if (lastEventId is { } id)
        {
            request.Headers.Add("Last-Event-ID", id.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        return client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
    }

    /// <summary>Starts a run in the background and returns its id.</summary>
    public static async Task<string> StartInBackgroundAsync(HttpClient client, string body)
    {
        using var response = await client.PostAsync("/api/runs?background=true", Json.Body(body));
        Assert.Equal(System.Net.HttpStatusCode.Accepted, response.StatusCode);
        return response.Headers.GetValues("X-Run-Id").Single();
    }

    /// <summary>Id, name and data of each event, for comparing what two clients saw.</summary>
    public static List<string> Lines(IEnumerable<RunEventItem> events) =>
        [.. events.Select(e => $"{e.Id} {e.Name} {e.Data.ToJsonString()}")];

    /// <summary>The concatenated text of one node's token events.</summary>
    public static string Tokens(IEnumerable<RunEventItem> events, string node) =>
        string.Concat(events.Where(e => e.Name == "token" && e.Node == node).Select(e => e.Data["text"]!.GetValue<string>()));
}
