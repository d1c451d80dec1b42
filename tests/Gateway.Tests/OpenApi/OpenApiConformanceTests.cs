using System.Net;
using System.Text.Json.Nodes;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.OpenApi;

/// <summary>
/// Real answers of the running gateway, each checked against what the served document declares for its operation
/// and status: the body against the schema (nulls included), the content type, and the headers the gateway sets.
/// </summary>
public sealed class OpenApiConformanceTests : IAsyncLifetime
{
    /// <summary>Nodes that call no model (null usage), one that does, and an output node (null output).</summary>
    private const string Flow = """
        {"id":"conform","nodes":[{"id":"question","type":"input"},{"id":"prompt","type":"prompt","template":"Briefly: {{question}}"},
          {"id":"say","type":"llm","model":"echo","prompt":"prompt"},{"id":"out","type":"output","from":["say"]}]}
        """;

    /// <summary>An llm node whose upstream refuses the request: the node and the run fail, with their errors.</summary>
    private const string FailingRun = """
        {"flow":{"id":"refused","nodes":[{"id":"in","type":"input"},{"id":"ask","type":"llm","model":"up","prompt":"in"},
          {"id":"out","type":"output","from":["ask"]}]},"input":"hi"}
        """;

    private FakeUpstream _upstream = null!;
    private GatewayHost _gateway = null!;
    private OpenApiContract _contract = null!;

    private HttpClient Client => _gateway.Client;

    public async Task InitializeAsync()
    {
        _upstream = await FakeUpstream.StartAsync();
        _upstream.DefaultScript = new UpstreamScript { Status = 400 };
        _gateway = await GatewayHost.StartAsync(GatewayHost.WithUpstream(GatewayHost.SimulatedSettings(), _upstream));
        _contract = await OpenApiContract.FetchAsync(Client);
        using var saved = await Client.PostAsync("/api/flows", Json.Body(Flow));
        Assert.Equal(HttpStatusCode.Created, saved.StatusCode);
        await _contract.AssertConformsAsync("CreateFlow", saved);
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _upstream.DisposeAsync();
    }

    [Fact]
    public async Task JsonRun_TheRecordItsRunIdAndTheReadsOfIt_AreAsDeclared()
    {
        using var run = await Client.PostAsync("/api/flows/conform/run", Json.Body("""{"input":"hi"}"""));
        Assert.Equal(HttpStatusCode.OK, run.StatusCode);
        var record = (await _contract.AssertConformsAsync("RunFlow", run))!;
        Assert.Null(record["nodes"]!["prompt"]!["usage"]);
        Assert.Null(record["error"]);

        using var read = await Client.GetAsync($"/api/runs/{record["runId"]}");
        await _contract.AssertConformsAsync("GetRun", read);
        Assert.Equal(record["runId"]!.GetValue<string>(), read.Headers.GetValues("X-Run-Id").Single());
        using var list = await Client.GetAsync("/api/runs?limit=5");
        await _contract.AssertConformsAsync("ListRuns", list);
        using var components = await Client.GetAsync("/api/components");
        await _contract.AssertConformsAsync("ListComponents", components);
    }

    [Fact]
    public async Task FailedRun_ItsEventsAndRecord_WithTheirErrors_AreAsDeclared()
    {
        var (response, events) = await RunClient.RunAsync(Client, "/api/runs", FailingRun);
        using (response)
        {
            _contract.AssertDeclared("RunInlineFlow", response);
        }

        Assert.Contains(events, e => e.Name == "node.failed");
        Assert.Equal("run.failed", events[^1].Name);
        Assert.NotNull(events[^1].Data["error"]);
        _contract.AssertEventsConform("RunInlineFlow", events);

        using var json = await Client.PostAsync("/api/runs", Json.Body(FailingRun));
        var record = (await _contract.AssertConformsAsync("RunInlineFlow", json))!;
        Assert.NotNull(record["nodes"]!["ask"]!["error"]);
    }

    [Fact]
    public async Task StreamedRun_EveryEvent_IsAsDeclared()
    {
        var (response, events) = await RunClient.RunAsync(Client, "/api/flows/conform/run", """{"input":"hi"}""");
        using (response)
        {
            _contract.AssertDeclared("RunFlow", response);
        }

        Assert.Contains(events, e => e.Name == "node.completed" && e.Data["usage"] is null);
        _contract.AssertEventsConform("RunFlow", events);

        var runId = events[0].Data["runId"]!.GetValue<string>();
        using var watch = await RunClient.WatchAsync(Client, runId, lastEventId: 0);
        _contract.AssertDeclared("WatchRun", watch);
        Assert.Equal(runId, watch.Headers.GetValues("X-Run-Id").Single());
        _contract.AssertEventsConform("WatchRun", await RunClient.ReadAllAsync(watch));
        using var allSent = await RunClient.WatchAsync(Client, runId, lastEventId: events[^1].Id);
        Assert.Equal(HttpStatusCode.NoContent, allSent.StatusCode);
        await _contract.AssertConformsAsync("WatchRun", allSent);
        using var pastTheEnd = await Client.GetAsync($"/api/runs/{runId}/events?after={events[^1].Id + 1}");
        Assert.Equal(HttpStatusCode.NoContent, pastTheEnd.StatusCode);
    }

    [Fact]
    public async Task BackgroundRun_ItsCancel_AndACancelAfterItsEnd_AreAsDeclared()
    {
        using var started = await Client.PostAsync("/api/runs?background=true", Json.Body(RunClient.LoremRun(maxTokens: 100_000)));
        Assert.Equal(HttpStatusCode.Accepted, started.StatusCode);
        var runId = (await _contract.AssertConformsAsync("RunInlineFlow", started))!["runId"]!.GetValue<string>();

        using var cancel = await Client.PostAsync($"/api/runs/{runId}/cancel", null);
        Assert.Equal(HttpStatusCode.Accepted, cancel.StatusCode);
        await _contract.AssertConformsAsync("CancelRun", cancel);
        Assert.Equal(runId, cancel.Headers.GetValues("X-Run-Id").Single());

        using var watch = await RunClient.WatchAsync(Client, runId);
        Assert.Equal("run.cancelled", (await RunClient.ReadAllAsync(watch))[^1].Name);
        using var again = await Client.PostAsync($"/api/runs/{runId}/cancel", null);
        Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
        await _contract.AssertConformsAsync("CancelRun", again);
    }

    /// <summary>
    /// Every /api endpoint refuses a query parameter given more than once before it reads anything else, so every /api
    /// operation must declare that 400. Until 2026-12-07 five did not (ListComponents, ListFlows, GetFlow, GetRun,
    /// CancelRun): a generated client had no type for the answer, and a strict validator refused it as undeclared.
    /// </summary>
    [Fact]
    public async Task EveryApiOperation_DeclaresThe400ARepeatedQueryParameterGets()
    {
        var operations = _contract.Document["paths"]!.AsObject()
            .Where(path => path.Key.StartsWith("/api/", StringComparison.Ordinal))
            .SelectMany(path => path.Value!.AsObject().Select(method => (Path: path.Key, Method: method.Key, Operation: method.Value!)))
            .ToList();
        Assert.NotEmpty(operations);
        foreach (var (path, method, operation) in operations)
        {
            var url = path.Replace("{id}", "conform", StringComparison.Ordinal).Replace("{runId}", "run-none", StringComparison.Ordinal);
            using var request = new HttpRequestMessage(new HttpMethod(method.ToUpperInvariant()), $"{url}?x=1&x=2");

            using var response = await Client.SendAsync(request);

            Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{method} {path}: {(int)response.StatusCode}");
            var body = await _contract.AssertConformsAsync(operation["operationId"]!.GetValue<string>(), response);
            Assert.NotNull(body!["errors"]!["x"]);
        }
    }

    /// <summary>A precondition header that is not <c>*</c> or quoted tags is a 400, which GET declares as PUT and DELETE do.</summary>
    [Theory]
    [InlineData("If-Match", "not-a-tag")]
    [InlineData("If-None-Match", "not-a-tag")]
    public async Task GetFlow_WithAnUnreadablePreconditionHeader_IsA400AsDeclared(string header, string value)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/flows/conform");
        request.Headers.TryAddWithoutValidation(header, value);

        using var response = await Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        await _contract.AssertConformsAsync("GetFlow", response);
    }

    /// <summary>The endpoint reads the limit as text for its precise 400: it must refuse exactly what the document rules out.</summary>
    [Theory]
    [InlineData("1")]
    [InlineData("100")]
    [InlineData("0")]
    [InlineData("101")]
    [InlineData("-1")]
    [InlineData("1.5")]
    [InlineData("ten")]
    public async Task ListRuns_AnswersALimit_WithA400_ExactlyWhenTheDocumentRulesItOut(string limit)
    {
        var parameter = _contract.Operation("ListRuns")["parameters"]!.AsArray().Single(p => p!["name"]!.GetValue<string>() == "limit")!;
        var asJson = decimal.TryParse(limit, System.Globalization.CultureInfo.InvariantCulture, out var number) ? JsonValue.Create(number) : JsonValue.Create(limit);
        var allowed = _contract.Schemas.Validate(asJson, parameter["schema"]!).Count == 0;

        using var response = await Client.GetAsync($"/api/runs?limit={limit}");

        Assert.Equal(allowed ? HttpStatusCode.OK : HttpStatusCode.BadRequest, response.StatusCode);
        var body = await _contract.AssertConformsAsync("ListRuns", response);
        Assert.True(allowed || body!["errors"]!["limit"] is not null);
    }

    [Theory]
    [InlineData("RunFlow", "/api/flows/conform/run", """{"input":"hi"}""")]
    [InlineData("RunFlow", "/api/flows/conform/run", """{"input":"hi","flow":{"id":"x","nodes":[]}}""")]
    [InlineData("RunInlineFlow", "/api/runs", """{"input":"hi"}""")]
    [InlineData("RunInlineFlow", "/api/runs", """{"input":"hi","flow":{"id":"x","nodes":[{"id":"in","type":"input"},{"id":"out","type":"output","from":["in"]}]}}""")]
    public async Task RunRequests_AreRefusedWith400_ExactlyWhenTheDocumentRulesThemOut(string operationId, string path, string body)
    {
        var allowed = _contract.Schemas.Validate(JsonNode.Parse(body), _contract.RequestSchema(operationId)).Count == 0;

        using var response = await Client.PostAsync(path, Json.Body(body));

        Assert.Equal(allowed ? HttpStatusCode.OK : HttpStatusCode.BadRequest, response.StatusCode);
        await _contract.AssertConformsAsync(operationId, response);
    }
}
