using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text;

namespace Bench.Load;

/// <summary>One streamed chat completion, timed: to its first SSE event (the first token) and to its end.</summary>
internal readonly record struct StreamResult(bool Ok, double FirstEventMs, double TotalMs);

internal sealed class StreamClient : IDisposable
{
    private static readonly MediaTypeHeaderValue Json = new("application/json");
    private readonly HttpClient _http;
    private readonly Uri _url;
    private readonly byte[] _body;
    private readonly int _tokens;

    /// <summary>
    /// A client for one target; <paramref name="headers"/> go with every request (what a peer gateway needs to find the
    /// upstream: Portkey's).
    /// </summary>
    public StreamClient(Uri url, string model, int tokens, int maxConnections, IReadOnlyList<(string Name, string Value)>? headers = null)
    {
        _http = new HttpClient(new SocketsHttpHandler
        {
            UseProxy = false,
            MaxConnectionsPerServer = maxConnections,
            ConnectTimeout = TimeSpan.FromSeconds(30),
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5),
        })
        { Timeout = Timeout.InfiniteTimeSpan };
        foreach (var (name, value) in headers ?? [])
        {
            _http.DefaultRequestHeaders.TryAddWithoutValidation(name, value);
        }

        _url = url;
        _tokens = tokens;
        _body = Encoding.UTF8.GetBytes(
            $"{{\"model\":\"{model}\",\"messages\":[{{\"role\":\"user\",\"content\":\"Write a short poem.\"}}],"
            + $"\"stream\":true,\"max_tokens\":{tokens}}}");
    }

    /// <summary>Streams one completion; it counts as ok when every token, the finish event and <c>[DONE]</c> arrived.</summary>
    public async Task<StreamResult> RunAsync(byte[] buffer, CancellationToken cancellationToken, Action? onFirstEvent = null)
    {
        var start = Stopwatch.GetTimestamp();
        long firstEvent = 0;
        var scanner = new EventScanner();
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, _url) { Content = new ByteArrayContent(_body) };
            request.Content.Headers.ContentType = Json;
            using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
            if (!response.IsSuccessStatusCode)
            {
                return default;
            }

            await using var body = await response.Content.ReadAsStreamAsync(cancellationToken);
            int read;
            while ((read = await body.ReadAsync(buffer, cancellationToken)) > 0)
            {
                scanner.Feed(buffer.AsSpan(0, read));
                if (firstEvent == 0 && scanner.Events > 0)
                {
                    firstEvent = Stopwatch.GetTimestamp();
                    onFirstEvent?.Invoke();
                }
            }
        }
        catch (Exception exception) when (exception is HttpRequestException or IOException or OperationCanceledException)
        {
            return default;
        }

        var ok = scanner.SawDone && scanner.Events >= _tokens + 2;
        return new StreamResult(ok, Stopwatch.GetElapsedTime(start, firstEvent).TotalMilliseconds, Stopwatch.GetElapsedTime(start).TotalMilliseconds);
    }

    public void Dispose() => _http.Dispose();
}
