using System.Net;
using System.Text.Json.Nodes;
using Gateway.Runs;
using Gateway.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.Tests.Runs;

/// <summary>JSON, SSE and background modes of both run endpoints, and reading runs back.</summary>
public sealed class RunModesTests(SimulatedGateway gateway) : IClassFixture<SimulatedGateway>
{
    private const string EchoFlow = """
        {"id":"FLOWID","nodes":[{"id":"in","type":"input"},{"id":"say","type":"llm","model":"echo","prompt":"in"},
          {"id":"out","type":"output","from":["say"]}]}
        """;

    [Fact]
    public async Task JsonMode_ReturnsTheRecordTheStreamEndedWith()
    {
        var flowId = await SaveFlowAsync("modes-json");

        using var response = await gateway.Client.PostAsync($"/api/flows/{flowId}/run", Json.Body("""{"input":"hello there"}"""));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType!.MediaType);
        var record = await Json.ReadAsync(response);
        var runId = response.Headers.GetValues("X-Run-Id").Single();
        Assert.Equal(runId, record["runId"]!.GetValue<string>());
        Assert.Equal("completed", record["status"]!.GetValue<string>());
        Assert.Equal("hello there", record["outputs"]!["say"]!.GetValue<string>());

        var log = await gateway.Host.Services.GetRequiredService<IRunStore>().GetEventsAsync(runId, 0, CancellationToken.None);
        Assert.Equal("run.completed", log[^1].Name);
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(log[^1].Data), record), "the JSON answer should be the terminal event's data");
        using var stored = await gateway.Client.GetAsync($"/api/runs/{runId}");
        Assert.True(JsonNode.DeepEquals(record, await Json.ReadAsync(stored)));
    }

    [Fact]
    public async Task AnEventStreamAcceptedAtQualityZero_IsRefused_SoTheAnswerIsTheRecord_ButAtAnyOtherQualityItStreams()
    {
        var flowId = await SaveFlowAsync("modes-q0");
        HttpRequestMessage RunAccepting(string accept)
        {
            var request = new HttpRequestMessage(HttpMethod.Post, $"/api/flows/{flowId}/run") { Content = Json.Body("""{"input":"hello"}""") };
            request.Headers.TryAddWithoutValidation("Accept", accept);
            return request;
        }

        using var request = RunAccepting("text/event-stream;q=0, application/json");
        using var response = await gateway.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType!.MediaType);
        Assert.Equal("hello", (await Json.ReadAsync(response))["outputs"]!["say"]!.GetValue<string>());

        using var streamed = RunAccepting("text/event-stream;q=0.5, application/json");
        using var stream = await gateway.Client.SendAsync(streamed, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal("text/event-stream", stream.Content.Headers.ContentType!.MediaType);
    }

    [Fact]
    public async Task BackgroundMode_Returns202WithLocationAtOnce_AndTheRunCompletes()
    {
        var flowId = await SaveFlowAsync("modes-background");

        using var response = await gateway.Client.PostAsync($"/api/flows/{flowId}/run?background=true", Json.Body("""{"input":"in the back"}"""));

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var runId = response.Headers.GetValues("X-Run-Id").Single();
        Assert.Equal($"/api/runs/{runId}", response.Headers.Location!.OriginalString);
        var accepted = await Json.ReadAsync(response);
        Assert.Equal(runId, accepted["runId"]!.GetValue<string>());
        Assert.Equal("running", accepted["status"]!.GetValue<string>());

        var record = await WaitForEndAsync(runId);
        Assert.Equal("completed", record["status"]!.GetValue<string>());
        Assert.Equal("in the back", record["outputs"]!["say"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("?stream=1", HttpStatusCode.OK, "text/event-stream")]
    [InlineData("?stream=TRUE", HttpStatusCode.OK, "text/event-stream")]
    [InlineData("?stream=0", HttpStatusCode.OK, "application/json")]
    [InlineData("?background=1", HttpStatusCode.Accepted, "application/json")]
    [InlineData("?stream=false&background=0", HttpStatusCode.OK, "application/json")]
    public async Task RunModes_TakeOneAndZeroForTrueAndFalse(string query, HttpStatusCode status, string mediaType)
    {
        var body = $$"""{"flow":{{EchoFlow.Replace("FLOWID", "flags", StringComparison.Ordinal)}},"input":"flagged"}""";

        using var response = await gateway.Client.PostAsync("/api/runs" + query, Json.Body(body));

        Assert.Equal(status, response.StatusCode);
        Assert.Equal(mediaType, response.Content.Headers.ContentType!.MediaType);
    }

    [Theory]
    [InlineData("?stream=yes", "stream")]
    [InlineData("?background=on", "background")]
    [InlineData("?stream=true%00", "stream")] // bool.TryParse forgives a trailing NUL, and spaces
    [InlineData("?background=%20false", "background")]
    public async Task RunModes_OtherValues_Are400NamingTheParameter(string query, string parameter)
    {
        var flowId = await SaveFlowAsync($"modes-flags-{parameter}-{Guid.NewGuid():N}");

        using var saved = await gateway.Client.PostAsync($"/api/flows/{flowId}/run{query}", Json.Body("""{"input":"x"}"""));
        using var inline = await gateway.Client.PostAsync("/api/runs" + query, Json.Body("""{"input":"x"}"""));

        foreach (var response in new[] { saved, inline })
        {
            var errors = await Problems.ReadValidationErrorsAsync(response);
            Assert.Equal(["Must be true or false (or 1 or 0)."], Problems.At(errors, parameter));
        }
    }

    [Fact]
    public async Task RunModes_GivenTwice_Are400SayingSo_AndNoRunStarts()
    {
        var flowId = await SaveFlowAsync("modes-twice");

        using var saved = await gateway.Client.PostAsync($"/api/flows/{flowId}/run?stream=true&stream=true", Json.Body("""{"input":"x"}"""));
        using var inline = await gateway.Client.PostAsync("/api/runs?background=1&background=1", Json.Body("""{"input":"x"}"""));
        using var listed = await gateway.Client.GetAsync($"/api/runs?flowId={flowId}");

        Assert.Equal(["Given more than once: give it once."], Problems.At(await Problems.ReadValidationErrorsAsync(saved), "stream"));
        Assert.Equal(["Given more than once: give it once."], Problems.At(await Problems.ReadValidationErrorsAsync(inline), "background"));
        Assert.False(saved.Headers.Contains("X-Run-Id"));
        Assert.Empty((await Json.ReadAsync(listed)).AsArray());
    }

    [Theory]
    [InlineData("/api/runs?flowId=FLOWID&flowId=FLOWID", "flowId")]
    [InlineData("/api/runs?flowId=FLOWID&limit=1&limit=1", "limit")]
    [InlineData("/api/usage?groupBy=model&groupBy=key", "groupBy")]
    [InlineData("/api/flows?x=1&x=2", "x")]
    public async Task AQueryParameterGivenTwice_Is400NamingIt_NotAnEmptyList(string path, string parameter)
    {
        var flowId = await SaveFlowAsync("modes-twice-" + parameter);
        path = path.Replace("FLOWID", flowId, StringComparison.Ordinal);
        using var run = await gateway.Client.PostAsync($"/api/flows/{flowId}/run", Json.Body("""{"input":"x"}"""));
        Assert.Equal(HttpStatusCode.OK, run.StatusCode);

        using var once = await gateway.Client.GetAsync($"/api/runs?flowId={flowId}");
        using var twice = await gateway.Client.GetAsync(path);

        Assert.NotEmpty((await Json.ReadAsync(once)).AsArray());
        Assert.Equal(["Given more than once: give it once."], Problems.At(await Problems.ReadValidationErrorsAsync(twice), parameter));
    }

    [Fact]
    public async Task AnInlineFlowUnderASavedFlowsId_Is409_SoItsRunIsNotListedAsThatFlows()
    {
        var flowId = await SaveFlowAsync("modes-taken");
        var body = """{"flow":{"id":"modes-taken","nodes":[{"id":"i","type":"input"},{"id":"o","type":"output","from":["i"]}]},"input":"x"}""";

        using var response = await gateway.Client.PostAsync("/api/runs?background=true", Json.Body(body));
        using var listed = await gateway.Client.GetAsync($"/api/runs?flowId={flowId}");

        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        Assert.False(response.Headers.Contains("X-Run-Id"));
        Assert.Equal(
            "A saved flow has the id 'modes-taken': run it with POST /api/flows/modes-taken/run, or give the inline flow another id (or none).",
            (await Json.ReadAsync(response))["detail"]!.GetValue<string>());
        Assert.Empty((await Json.ReadAsync(listed)).AsArray());
    }

    [Fact]
    public async Task InlineRun_RunsTheFlowInTheBody_InEveryMode()
    {
        var body = $$"""{"flow":{{EchoFlow.Replace("FLOWID", "inline-flow", StringComparison.Ordinal)}},"input":"inline words"}""";

        using var json = await gateway.Client.PostAsync("/api/runs", Json.Body(body));
        var (sse, events) = await RunClient.RunAsync(gateway.Client, "/api/runs", body);
        using var background = await gateway.Client.PostAsync("/api/runs?background=true", Json.Body(body));

        Assert.Equal("inline words", (await Json.ReadAsync(json))["outputs"]!["say"]!.GetValue<string>());
        Assert.True(json.Headers.Contains("X-Run-Id"));
        Assert.Equal("inline-flow", events[0].Data["flowId"]!.GetValue<string>());
        Assert.True(sse.Headers.Contains("X-Run-Id"));
        sse.Dispose();
        Assert.Equal(HttpStatusCode.Accepted, background.StatusCode);
        Assert.Equal("completed", (await WaitForEndAsync(background.Headers.GetValues("X-Run-Id").Single()))["status"]!.GetValue<string>());
    }

    [Fact]
    public async Task ListRuns_NewestFirst_FilteredByFlow_AndLimited()
    {
        var flowId = await SaveFlowAsync("modes-list");
        var runIds = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            using var run = await gateway.Client.PostAsync($"/api/flows/{flowId}/run", Json.Body($$"""{"input":"run {{i}}"}"""));
            runIds.Add(run.Headers.GetValues("X-Run-Id").Single());
        }

        using var response = await gateway.Client.GetAsync($"/api/runs?flowId={flowId}&limit=2");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var runs = (await Json.ReadAsync(response)).AsArray();
        Assert.Equal([runIds[2], runIds[1]], runs.Select(r => r!["runId"]!.GetValue<string>()));
        Assert.All(runs, r => Assert.Equal(flowId, r!["flowId"]!.GetValue<string>()));
        using var unfiltered = await gateway.Client.GetAsync("/api/runs?flowId=&limit=1");
        Assert.Equal(runIds[2], (await Json.ReadAsync(unfiltered)).AsArray().Single()!["runId"]!.GetValue<string>());
        using var asAFormSendsIt = await gateway.Client.GetAsync("/api/runs?flowId=&limit=");
        Assert.Equal(HttpStatusCode.OK, asAFormSendsIt.StatusCode);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("101")]
    [InlineData("ten")]
    [InlineData("5%00")] // int.TryParse forgives a trailing NUL
    [InlineData("%2B5")]
    [InlineData("99999999999999999999")]
    public async Task ListRuns_BadLimit_Returns400(string limit)
    {
        using var response = await gateway.Client.GetAsync($"/api/runs?limit={limit}");

        var errors = await Problems.ReadValidationErrorsAsync(response);
        Assert.Equal(["Must be a whole number from 1 to 100."], Problems.At(errors, "limit"));
    }

    [Fact]
    public async Task UnknownRunOrFlow_Returns404ProblemDetails()
    {
        using var run = await gateway.Client.GetAsync("/api/runs/run-nope");
        using var flow = await gateway.Client.PostAsync("/api/flows/nope/run", Json.Body("{}"));

        Assert.Equal(HttpStatusCode.NotFound, run.StatusCode);
        Assert.Equal("No run has the id 'run-nope'.", (await Json.ReadAsync(run))["detail"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.NotFound, flow.StatusCode);
        Assert.Equal("application/problem+json", flow.Content.Headers.ContentType!.MediaType);
    }

    [Fact]
    public async Task SavedFlowWithoutInputs_RunsWithoutABody()
    {
        using var created = await gateway.Client.PostAsync("/api/flows", Json.Body("""
            {"id":"modes-no-body","nodes":[{"id":"p","type":"prompt","template":"fixed text"},
              {"id":"say","type":"llm","model":"echo","prompt":"p"},{"id":"out","type":"output","from":["say"]}]}
            """));

        using var response = await gateway.Client.PostAsync("/api/flows/modes-no-body/run", null);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("fixed text", (await Json.ReadAsync(response))["outputs"]!["say"]!.GetValue<string>());
    }

    private async Task<string> SaveFlowAsync(string id)
    {
        using var created = await gateway.Client.PostAsync("/api/flows", Json.Body(EchoFlow.Replace("FLOWID", id, StringComparison.Ordinal)));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        return id;
    }

    private async Task<JsonNode> WaitForEndAsync(string runId)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (true)
        {
            using var response = await gateway.Client.GetAsync($"/api/runs/{runId}", timeout.Token);
            var record = await Json.ReadAsync(response);
            if (record["status"]!.GetValue<string>() != "running")
            {
                return record;
            }

            await Task.Delay(20, timeout.Token);
        }
    }
}
