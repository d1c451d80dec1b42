using System.IO.Pipelines;
using System.Net;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Gateway.Runs;
using Gateway.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.Tests.Runs;

/// <summary>
/// GET /api/runs/{runId} answers the record from its stored JSON: read as a string, deserialized and serialized again,
/// a 2.5 MB record allocated ~17 MB per GET, and 300 concurrent GETs took the process from 0.2 to 2.8 GB.
/// </summary>
public sealed class RunRecordReadTests
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 7, 12, 0, 0, TimeSpan.Zero);

    /// <summary>Every kind of character the store and the API escape differently, or alike.</summary>
    private const string Awkward = "don't <b>&+` \"quoted\" naïve é ß 中文 😀 \u2028\u2029 \u0001\u001f\u007f\u0085\u00ad\ufeff\ufffd \\ / \b\f\n\r\t end";

    /// <summary>What the API writes for a record: its JSON options, as <c>Ok&lt;RunRecord&gt;</c> uses them.</summary>
    private static readonly JsonSerializerOptions Api = new(JsonSerializerDefaults.Web)
    {
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        TypeInfoResolver = RunsJsonContext.Default,
    };

    [Fact]
    public void AStoredRecord_BecomesTheBytesTheApiWritesForIt_EveryEscapeIncluded()
    {
        var run = Record("run-1", Awkward, costUsd: 0.1 + 0.2);
        var stored = JsonSerializer.SerializeToUtf8Bytes(run, RunsJsonContext.Default.RunRecord); // as the stores write it
        Assert.Contains("\\u0027", Encoding.UTF8.GetString(stored), StringComparison.Ordinal);

        var length = StoredRunRecord.ToApiJson(stored);

        Assert.Equal(JsonSerializer.Serialize(run, Api), Encoding.UTF8.GetString(stored, 0, length));
    }

    [Fact]
    public void ARecordAlreadyInTheApisForm_IsLeftAsItIs()
    {
        var api = JsonSerializer.SerializeToUtf8Bytes(Record("run-1", Awkward), Api);
        var copy = api.ToArray();

        Assert.Equal(api.Length, StoredRunRecord.ToApiJson(copy));
        Assert.Equal(api, copy);
    }

    [Theory]
    [InlineData("\"upstreamRequestId\":null,", "")] // stored before the member was added
    [InlineData("\"attempts\":0,", "\"attempts\":0,\"later\":1,")] // a member this build does not know
    [InlineData("\"status\":\"completed\",\"output\"", "\"output\"")]
    [InlineData("\"usage\":{\"inputTokens\"", "\"usage\":{\"input\"")]
    [InlineData("end\"", "end\\uD800\"")] // a lone surrogate: the old way refuses it, as it did
    [InlineData("end\"", "end\\x\"")]
    [InlineData("\"error\":null}", "\"error\":null},")]
    public void ARecordOfAnotherShape_IsLeftToTheOldWay_Unchanged(string member, string replacement)
    {
        var stored = JsonSerializer.Serialize(Record("run-1", Awkward), RunsJsonContext.Default.RunRecord);
        Assert.Contains(member, stored, StringComparison.Ordinal);
        var other = Encoding.UTF8.GetBytes(stored.Replace(member, replacement, StringComparison.Ordinal));
        var copy = other.ToArray();

        Assert.Equal(-1, StoredRunRecord.ToApiJson(copy));
        Assert.Equal(other, copy);
    }

    /// <summary>
    /// The large record's bytes are as before, and go out in pieces: written whole before a flush, a client that did not
    /// read held all of it in the response's buffers (as the serializer wrote each output in one piece).
    /// </summary>
    [Fact]
    public async Task ALargeRecord_IsAnsweredWithTheSameBytesAsBefore_InFlushedPieces()
    {
        var body = new RecordingBody();
        await using var gateway = await GatewayHost.StartAsync(GatewayHost.SimulatedSettings(), services =>
            services.AddSingleton<IStartupFilter>(new RecordBodies(body)));
        var run = Record("run-large", string.Concat(Enumerable.Repeat(Awkward + new string('w', 1_000), 1_000)));
        var store = gateway.Services.GetRequiredService<IRunStore>();
        await store.CreateAsync(run, "anonymous", new RunLease("test", T0.AddHours(1)), CancellationToken.None);

        using var response = await gateway.Client.GetAsync("/api/runs/run-large");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json; charset=utf-8", response.Content.Headers.ContentType!.ToString());
        Assert.Equal("run-large", response.Headers.GetValues(RunLauncher.RunIdHeader).Single());
        Assert.Equal(JsonSerializer.Serialize(run, Api), await response.Content.ReadAsStringAsync());
        Assert.InRange(body.MostUnflushed, 1, StoredRunRecord.PieceBytes);
    }

    [Fact]
    public async Task ARecordStoredBeforeAMemberWasAdded_IsAnsweredWithTheMemberAsNull()
    {
        var database = GatewayHost.NewDatabasePath();
        var settings = GatewayHost.SimulatedSettings();
        settings[GatewayHost.StorageKey] = GatewayHost.ConnectionString(database);
        try
        {
            await using var gateway = await GatewayHost.StartAsync(settings);
            var run = Record("run-old", Awkward);
            var store = gateway.Services.GetRequiredService<IRunStore>();
            await store.CreateAsync(run, "anonymous", new RunLease("test", T0.AddHours(1)), CancellationToken.None);
            var older = JsonSerializer.Serialize(run, RunsJsonContext.Default.RunRecord).Replace("\"upstreamRequestId\":null,", "", StringComparison.Ordinal);
            await using (var connection = new Microsoft.Data.Sqlite.SqliteConnection(GatewayHost.ConnectionString(database) + ";Pooling=False"))
            {
                await connection.OpenAsync();
                await using var update = connection.CreateCommand();
                update.CommandText = "UPDATE runs SET record = $record WHERE run_id = 'run-old';";
                update.Parameters.AddWithValue("$record", older);
                Assert.Equal(1, await update.ExecuteNonQueryAsync());
            }

            var text = await gateway.Client.GetStringAsync("/api/runs/run-old");

            Assert.Equal(JsonSerializer.Serialize(run, Api), text);
        }
        finally
        {
            GatewayHost.DeleteDatabase(database);
        }
    }

    private static RunRecord Record(string id, string output, double? costUsd = null) => new()
    {
        RunId = id,
        FlowId = "f",
        Status = RunStatus.Completed,
        CreatedAt = T0,
        CompletedAt = T0.AddSeconds(1.2345678),
        Outputs = new Dictionary<string, string> { ["say"] = output },
        Nodes = new Dictionary<string, NodeRecord>
        {
            ["say"] = new() { Status = NodeStatus.Completed, Output = output, StartedAt = T0, CompletedAt = T0, Usage = new TokenUsage(3, 4, costUsd) },
            ["bad"] = new() { Status = NodeStatus.Failed, Error = new NodeError("upstream_error", Awkward) },
        },
        Usage = new TokenUsage(3, 4, costUsd),
        Error = new RunError("node_failed", Awkward, "bad"),
    };

    /// <summary>Puts <see cref="RecordingBody"/> around every response's body.</summary>
    private sealed class RecordBodies(RecordingBody body) : IStartupFilter
    {
        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            app.Use((context, nextMiddleware) =>
            {
                if (context.Request.Path.StartsWithSegments("/api/runs"))
                {
                    body.Inner = context.Features.Get<IHttpResponseBodyFeature>()!;
                    context.Features.Set<IHttpResponseBodyFeature>(body);
                }

                return nextMiddleware(context);
            });
            next(app);
        };
    }

    /// <summary>Passes a response's body on, and keeps the most that was ever written between two flushes.</summary>
    private sealed class RecordingBody : PipeWriter, IHttpResponseBodyFeature
    {
        private long _unflushed;

        public IHttpResponseBodyFeature Inner { get; set; } = null!;

        public long MostUnflushed { get; private set; }

        public Stream Stream => this.AsStream();

        public PipeWriter Writer => this;

        public override bool CanGetUnflushedBytes => Inner.Writer.CanGetUnflushedBytes;

        public override long UnflushedBytes => Inner.Writer.UnflushedBytes;

        public void DisableBuffering() => Inner.DisableBuffering();

        public Task StartAsync(CancellationToken cancellationToken = default) => Inner.StartAsync(cancellationToken);

        public Task SendFileAsync(string path, long offset, long? count, CancellationToken cancellationToken = default) =>
            Inner.SendFileAsync(path, offset, count, cancellationToken);

        public Task CompleteAsync() => Inner.CompleteAsync();

        public override void Advance(int bytes)
        {
            Inner.Writer.Advance(bytes);
            _unflushed += bytes;
            MostUnflushed = Math.Max(MostUnflushed, _unflushed);
        }

        public override Memory<byte> GetMemory(int sizeHint = 0) => Inner.Writer.GetMemory(sizeHint);

        public override Span<byte> GetSpan(int sizeHint = 0) => Inner.Writer.GetSpan(sizeHint);

        public override ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken = default)
        {
            _unflushed = 0;
            return Inner.Writer.FlushAsync(cancellationToken);
        }

        public override void CancelPendingFlush() => Inner.Writer.CancelPendingFlush();

        public override void Complete(Exception? exception = null) => Inner.Writer.Complete(exception);
    }
}
