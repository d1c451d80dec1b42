using System.Collections.Concurrent;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Gateway.Tests.Infrastructure;

/// <summary>
/// A small OpenAI-compatible server on 127.0.0.1 that follows a script per request (stall, drop, fail, send odd
/// chunks) and records what it saw, including when each request's connection closed.
/// </summary>
public sealed class FakeUpstream : IAsyncDisposable
{
    public const string ApiKey = "sk-test-canary-4f1d2b7e9a";

    private readonly WebApplication _app;
    private readonly ConcurrentQueue<UpstreamScript> _scripts = new();
    private readonly ConcurrentQueue<RecordedRequest> _requests = new();

    private FakeUpstream(WebApplication app)
    {
        _app = app;
    }

    public string BaseUrl => _app.Urls.First() + "/v1";

    /// <summary>Used when no scripted request is queued.</summary>
    public UpstreamScript DefaultScript { get; set; } = new();

    public IReadOnlyList<RecordedRequest> Requests => [.. _requests];

    /// <summary>Forgets the requests seen so far (e.g. a warm-up).</summary>
    public void ClearRequests() => _requests.Clear();

    public void Enqueue(params UpstreamScript[] scripts)
    {
        foreach (var script in scripts)
        {
            _scripts.Enqueue(script);
        }
    }

    public static async Task<FakeUpstream> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        var upstream = new FakeUpstream(app);
        app.MapPost("/v1/chat/completions", upstream.HandleAsync);
        await app.StartAsync();
        return upstream;
    }

    private async Task HandleAsync(HttpContext context)
    {
        using var reader = new StreamReader(context.Request.Body, Encoding.UTF8);
        var body = await reader.ReadToEndAsync();
        var request = new RecordedRequest(body, context.Request.Headers.Authorization.ToString(), context.Request.Headers.TraceParent.ToString(), DateTimeOffset.UtcNow)
        {
            Cookie = context.Request.Headers.Cookie.ToString(),
            UserAgent = context.Request.Headers.UserAgent.ToString(),
            Baggage = context.Request.Headers.Baggage.ToString(),
            TraceState = context.Request.Headers["tracestate"].ToString(),
            ConnectionId = context.Connection.Id,
        };
        context.RequestAborted.Register(() => request.MarkClosed(aborted: true));
        _requests.Enqueue(request);
        var script = _scripts.TryDequeue(out var next) ? next : DefaultScript;
        try
        {
            await RespondAsync(context, script, JsonNode.Parse(body)!);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
        }
        finally
        {
            request.MarkClosed(aborted: context.RequestAborted.IsCancellationRequested);
        }
    }

    private static async Task RespondAsync(HttpContext context, UpstreamScript script, JsonNode request)
    {
        var cancellationToken = context.RequestAborted;
        if (script.ResetBeforeHeaders)
        {
            context.Abort();
            return;
        }

        if (script.HeadersDelay > TimeSpan.Zero)
        {
            await Task.Delay(script.HeadersDelay, cancellationToken);
        }

        foreach (var (name, value) in script.Headers ?? new Dictionary<string, string>())
        {
            context.Response.Headers[name] = value;
        }

        if (script.Status != 200)
        {
            context.Response.StatusCode = script.Status;
            if (script.RetryAfter is not null)
            {
                context.Response.Headers.RetryAfter = script.RetryAfter;
            }

            context.Response.ContentType = "application/json";
            if (script.ErrorBodyCut)
            {
                var whole = Encoding.UTF8.GetBytes(script.ErrorBody);
                context.Response.ContentLength = whole.Length;
                await context.Response.Body.WriteAsync(whole.AsMemory(0, whole.Length / 2), cancellationToken);
                await context.Response.Body.FlushAsync(cancellationToken);
                // Time for the gateway to read the headers: a reset drops what the receiver has not read yet, and a
                // reset before the headers is a connection that failed, which is retried.
                await Task.Delay(TimeSpan.FromMilliseconds(300), cancellationToken);
                context.Abort();
                return;
            }

            if (script.ErrorBodyStall is { } stall)
            {
                var bytes = Encoding.UTF8.GetBytes(script.ErrorBody);
                context.Response.ContentLength = bytes.Length;
                await context.Response.Body.WriteAsync(bytes.AsMemory(0, bytes.Length / 2), cancellationToken);
                await context.Response.Body.FlushAsync(cancellationToken);
                await Task.Delay(stall, cancellationToken);
                await context.Response.Body.WriteAsync(bytes.AsMemory(bytes.Length / 2), cancellationToken);
                return;
            }

            await context.Response.WriteAsync(script.ErrorBody, cancellationToken);
            return;
        }

        var tokens = script.Tokens ?? EchoTokens(request);
        var model = request["model"]!.GetValue<string>();
        var stream = request["stream"]?.GetValue<bool>() == true && !script.IgnoreStream;
        if (!stream)
        {
            SetContentType(context, script, "application/json");
            await context.Response.WriteAsync(script.CompletionBody ?? Completion(script, model, string.Concat(tokens), tokens.Count), cancellationToken);
            return;
        }

        SetContentType(context, script, "text/event-stream");
        await context.Response.StartAsync(cancellationToken);
        await context.Response.Body.FlushAsync(cancellationToken);
        if (script.EmptyChoicesChunkFirst)
        {
            await WriteEventAsync(context, Chunk(script, model, null, null, null), cancellationToken);
        }

        if (script.Thinking is { } thinking)
        {
            foreach (var part in thinking.Parts)
            {
                await Task.Delay(thinking.Delay, cancellationToken);
                var chunk = Chunk(script, model, "assistant", null, null);
                var delta = chunk["choices"]![0]!["delta"]!.AsObject();
                delta.Remove("role");
                delta[thinking.Field] = part;
                await WriteEventAsync(context, chunk, cancellationToken);
            }
        }

        for (var i = 0; i < tokens.Count; i++)
        {
            if (script.Inject is { } inject && inject.AfterTokens == i)
            {
                await context.Response.WriteAsync(inject.Raw, cancellationToken);
                await context.Response.Body.FlushAsync(cancellationToken);
            }

            if (script.Stall is { } stall && stall.AfterTokens == i)
            {
                await Task.Delay(stall.For, cancellationToken);
            }

            if (script.TokenDelay > TimeSpan.Zero)
            {
                await Task.Delay(script.TokenDelay, cancellationToken);
            }

            if (script.DropAfterTokens == i)
            {
                context.Abort();
                return;
            }

            await WriteEventAsync(context, Chunk(script, model, i == 0 ? "assistant" : null, tokens[i], script.ContentFinishReason), cancellationToken);
        }

        if (script.Inject is { } last && last.AfterTokens >= tokens.Count)
        {
            await context.Response.WriteAsync(last.Raw, cancellationToken);
            await context.Response.Body.FlushAsync(cancellationToken); // out before a drop that may follow
        }

        if (script.DropAfterTokens >= tokens.Count)
        {
            // A reset can discard what was sent just before it but not yet read: a script that injected its last
            // chunk may wait until the test has seen it arrive.
            await (script.DropWhen ?? Task.CompletedTask).WaitAsync(cancellationToken);
            context.Abort();
            return;
        }

        await WriteEventAsync(context, Chunk(script, model, null, null, script.FinishReason), cancellationToken);
        if (script.AfterFinish is { } afterFinish)
        {
            // Long enough for the gateway to have read the finish chunk, which a reset could otherwise discard unread.
            await Task.Delay(afterFinish.Wait, cancellationToken);
            if (afterFinish.Drop)
            {
                context.Abort();
                return;
            }
        }

        if (!script.OmitUsage)
        {
            var usage = script.Usage is { } given ? JsonNode.Parse(given)
                : new JsonObject { ["prompt_tokens"] = 3, ["completion_tokens"] = tokens.Count, ["total_tokens"] = 3 + tokens.Count };
            var usageChunk = Chunk(script, model, null, null, null);
            usageChunk["choices"] = new JsonArray();
            usageChunk["usage"] = usage;
            await WriteEventAsync(context, usageChunk, cancellationToken);
        }
        if (script.SendDone)
        {
            await context.Response.WriteAsync(script.DoneLine, cancellationToken);
        }
    }

    private static JsonObject Chunk(UpstreamScript script, string model, string? role, string? content, string? finishReason)
    {
        var delta = new JsonObject();
        if (role is not null)
        {
            delta["role"] = role;
        }

        if (content is not null)
        {
            delta["content"] = content;
        }

        var chunk = new JsonObject();
        if (!script.OmitId)
        {
            chunk["id"] = "chatcmpl-upstream";
        }

        chunk["object"] = "chat.completion.chunk";
        if (!script.OmitCreated)
        {
            chunk["created"] = 1_700_000_000;
        }

        chunk["model"] = model;
        AddMembers(chunk, script);
        chunk["choices"] = content is null && role is null && finishReason is null
            ? new JsonArray()
            : new JsonArray(new JsonObject { ["index"] = 0, ["delta"] = delta, ["finish_reason"] = finishReason });
        return chunk;
    }

    private static string Completion(UpstreamScript script, string model, string text, int tokenCount)
    {
        var completion = new JsonObject();
        if (!script.OmitId)
        {
            completion["id"] = "chatcmpl-upstream";
        }

        completion["object"] = "chat.completion";
        if (!script.OmitCreated)
        {
            completion["created"] = 1_700_000_000;
        }

        completion["model"] = model;
        completion["choices"] = new JsonArray(new JsonObject
        {
            ["index"] = 0,
            ["message"] = new JsonObject { ["role"] = "assistant", ["content"] = text },
            ["finish_reason"] = script.FinishReason,
        });
        if (!script.OmitUsage)
        {
            completion["usage"] = script.Usage is { } given ? JsonNode.Parse(given)
                : new JsonObject { ["prompt_tokens"] = 3, ["completion_tokens"] = tokenCount, ["total_tokens"] = 3 + tokenCount };
        }

        AddMembers(completion, script);
        return completion.ToJsonString();
    }

    private static void AddMembers(JsonObject json, UpstreamScript script)
    {
        foreach (var (name, value) in script.Members ?? new Dictionary<string, string>())
        {
            json[name] = JsonNode.Parse(value);
        }
    }

    private static async Task WriteEventAsync(HttpContext context, JsonObject chunk, CancellationToken cancellationToken)
    {
        await context.Response.WriteAsync("data: " + chunk.ToJsonString() + "\n\n", cancellationToken);
        await context.Response.Body.FlushAsync(cancellationToken);
    }

    /// <summary>The last user message as word tokens, each with the whitespace before it.</summary>
    private static List<string> EchoTokens(JsonNode request)
    {
        var messages = request["messages"]!.AsArray();
        var content = messages.Last(m => m!["role"]!.GetValue<string>() == "user")!["content"]!;
        var text = content is JsonArray parts // text and images: its text parts, as a vision model reads them
            ? string.Concat(parts.Where(part => part!["type"]!.GetValue<string>() == "text").Select(part => part!["text"]!.GetValue<string>()))
            : content.GetValue<string>();
        var words = text.Split(' ');
        return [.. words.Select((word, i) => i == 0 ? word : " " + word)];
    }

    private static void SetContentType(HttpContext context, UpstreamScript script, string openAis)
    {
        if (script.ContentType != "")
        {
            context.Response.ContentType = script.ContentType ?? openAis;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

/// <summary>One request the upstream received.</summary>
public sealed class RecordedRequest(string body, string authorization, string traceParent, DateTimeOffset receivedAt)
{
    private readonly TaskCompletionSource<(DateTimeOffset At, bool Aborted)> _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public string Body { get; } = body;

    public string Authorization { get; } = authorization;

    /// <summary>The W3C <c>traceparent</c> header, or empty.</summary>
    public string TraceParent { get; } = traceParent;

    public string Cookie { get; init; } = "";

    public string UserAgent { get; init; } = "";

    /// <summary>The W3C <c>baggage</c> and <c>tracestate</c> headers, or empty.</summary>
    public string Baggage { get; init; } = "";

    public string TraceState { get; init; } = "";

    /// <summary>Kestrel's id of the connection the request came on: equal for requests on a reused connection.</summary>
    public string ConnectionId { get; init; } = "";

    public DateTimeOffset ReceivedAt { get; } = receivedAt;

    public JsonNode Json => JsonNode.Parse(Body)!;

    /// <summary>Completes when the request ends: normally, or because the gateway closed the connection.</summary>
    public Task<(DateTimeOffset At, bool Aborted)> Closed => _closed.Task;

    internal void MarkClosed(bool aborted) => _closed.TrySetResult((DateTimeOffset.UtcNow, aborted));
}
