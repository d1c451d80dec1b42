using System.Diagnostics;
using Bench.Upstream;

// An OpenAI-compatible streaming upstream that costs as little as possible, so the benchmark measures what sits
// in front of it: every chunk is serialised once at start-up and each stream only waits and writes.
var settings = SimulatorSettings.FromArgs(args);
var builder = WebApplication.CreateSlimBuilder();
builder.Logging.ClearProviders();
builder.WebHost.UseUrls($"http://127.0.0.1:{settings.Port}");
var app = builder.Build();
var chunks = new ChunkSet(settings.Tokens);
var clock = settings.CoarseTimer ? null : new TokenClock(settings.ShortestDelay);
app.MapPost("/v1/chat/completions", context => StreamAsync(context, chunks, settings, clock));
app.Run();

static async Task StreamAsync(HttpContext context, ChunkSet chunks, SimulatorSettings settings, TokenClock? clock)
{
    var cancellationToken = context.RequestAborted;
    await DrainAsync(context.Request.BodyReader, cancellationToken);
    context.Response.ContentType = "text/event-stream";
    context.Response.Headers.CacheControl = "no-cache";
    var body = context.Response.BodyWriter;
    // Due times count from the request, not from each write, so a stream's tokens do not drift later.
    var due = Stopwatch.GetTimestamp();
    try
    {
        if (settings.FirstTokenDelay > TimeSpan.Zero)
        {
            due += Ticks(settings.FirstTokenDelay);
            await WaitAsync(due, settings.FirstTokenDelay);
        }

        for (var i = 0; i < chunks.Tokens.Length; i++)
        {
            if (i > 0)
            {
                due += Ticks(settings.TokenDelay);
                await WaitAsync(due, settings.TokenDelay);
            }

            await body.WriteAsync(chunks.Tokens[i], cancellationToken);
        }

        await body.WriteAsync(chunks.Finish, cancellationToken);
        await body.WriteAsync(ChunkSet.Done, cancellationToken);
    }
    catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
    {
        // The caller went away; nothing to clean up.
    }

    // The clock's wait is not cancelled: a caller that left is noticed at the next write, at most one delay later.
    Task WaitAsync(long until, TimeSpan delay) =>
        clock?.WaitUntilAsync(until) ?? Task.Delay(delay, cancellationToken);
}

static long Ticks(TimeSpan delay) => (long)(delay.TotalSeconds * Stopwatch.Frequency);

static async Task DrainAsync(System.IO.Pipelines.PipeReader reader, CancellationToken cancellationToken)
{
    while (true)
    {
        var result = await reader.ReadAsync(cancellationToken);
        reader.AdvanceTo(result.Buffer.End);
        if (result.IsCompleted)
        {
            return;
        }
    }
}
