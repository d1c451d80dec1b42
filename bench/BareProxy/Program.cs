// The floor for a C# proxy, measured in the same run as the gateway: Kestrel in, HttpClient out, bytes copied
// and flushed as they arrive. No routing table, no parsing, no auth, no resilience, no telemetry; just what any
// ASP.NET Core proxy must do. The TTFT targets were set against such a proxy.
//
//   dotnet BareProxy.dll --port 19082 --upstream http://127.0.0.1:19001
var port = args.SkipWhile(arg => arg != "--port").Skip(1).FirstOrDefault() ?? "19082";
var upstream = new Uri(args.SkipWhile(arg => arg != "--upstream").Skip(1).FirstOrDefault() ?? "http://127.0.0.1:19001");

var builder = WebApplication.CreateSlimBuilder();
builder.Logging.ClearProviders();
builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
var app = builder.Build();
using var client = new HttpClient(new SocketsHttpHandler { UseProxy = false, UseCookies = false, AllowAutoRedirect = false })
{
    Timeout = Timeout.InfiniteTimeSpan,
};

app.Run(async context =>
{
    var cancellationToken = context.RequestAborted;
    using var request = new HttpRequestMessage(new HttpMethod(context.Request.Method), new Uri(upstream, context.Request.Path))
    {
        Content = new StreamContent(context.Request.Body),
    };
    request.Content.Headers.TryAddWithoutValidation("Content-Type", context.Request.ContentType);
    request.Content.Headers.ContentLength = context.Request.ContentLength; // as the gateway sends it: not chunked
    using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
    context.Response.StatusCode = (int)response.StatusCode;
    context.Response.ContentType = response.Content.Headers.ContentType?.ToString();
    await using var body = await response.Content.ReadAsStreamAsync(cancellationToken);
    var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(16 * 1024);
    try
    {
        int read;
        while ((read = await body.ReadAsync(buffer, cancellationToken)) > 0)
        {
            await context.Response.Body.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
            await context.Response.Body.FlushAsync(cancellationToken);
        }
    }
    finally
    {
        System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
    }
});

app.Run();
