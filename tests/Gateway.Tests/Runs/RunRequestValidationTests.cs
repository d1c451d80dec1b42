using System.Net;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Runs;

/// <summary>What a run request may and may not carry: inputs, variables and tweaks, checked before anything runs.</summary>
public sealed class RunRequestValidationTests(SimulatedGateway gateway) : IClassFixture<SimulatedGateway>
{
    private const string Flow = """
        {"nodes":[{"id":"in","type":"input"},{"id":"p","type":"prompt","template":"{{in}} in {{language}}"},
          {"id":"say","type":"llm","model":"echo","prompt":"p"},{"id":"out","type":"output","from":["say"]}]}
        """;

    [Theory]
    [InlineData("""{"input":"hi"}""", "variables.language", "Required: node 'p' uses {{language}}, which is not a node id, so the run must supply it.")]
    [InlineData("""{"variables":{"language":"French"}}""", "input", "Required: the text for input node 'in'.")]
    [InlineData("""{"input":5,"variables":{"language":"French"}}""", "input", "Must be a string.")]
    [InlineData("""{"inputs":{"p":"x"},"input":"hi","variables":{"language":"French"}}""", "inputs.p", "Not an input node of this flow.")]
    [InlineData("""{"input":"hi","variables":{"language":1}}""", "variables.language", "Must be a string.")]
    [InlineData("""{"input":"hi","variables":{"language":"French"},"tweaks":{"say":{"apiKey":"sk-x"}}}""", "tweaks.say.apiKey", "Not a parameter of a 'llm' node; a run may tweak: model, system, temperature, topP, maxTokens, stop.")]
    [InlineData("""{"input":"hi","variables":{"language":"French"},"tweaks":{"say":{"baseUrl":"http://evil"}}}""", "tweaks.say.baseUrl", "Not a parameter of a 'llm' node; a run may tweak: model, system, temperature, topP, maxTokens, stop.")]
    [InlineData("""{"input":"hi","variables":{"language":"French"},"tweaks":{"say":{"prompt":"in"}}}""", "tweaks.say.prompt", "Not tweakable; a run may tweak: model, system, temperature, topP, maxTokens, stop.")]
    [InlineData("""{"input":"hi","variables":{"language":"French"},"tweaks":{"say":{"temperature":7}}}""", "tweaks.say.temperature", "Must be a number from 0 to 2.")]
    [InlineData("""{"input":"hi","variables":{"language":"French"},"tweaks":{"say":{"model":"gpt-9"}}}""", "tweaks.say.model", "Unknown model 'gpt-9'; this gateway serves: echo, lorem.")]
    [InlineData("""{"input":"hi","variables":{"language":"French"},"tweaks":{"ghost":{"temperature":0}}}""", "tweaks.ghost", "No node has the id 'ghost'.")]
    [InlineData("""{"input":"hi","variables":{"language":"French"},"tweaks":{"in":{"template":"x"}}}""", "tweaks.in.template", "Not a parameter of a 'input' node; a run may tweak: none.")]
    [InlineData("""{"input":"hi","variables":{"language":"French"},"tweaks":{"say":1}}""", "tweaks.say", "Must be an object of parameter values.")]
    [InlineData("""{"input":"hi","variables":{"language":"French"},"stream":true}""", "stream", "Unknown field; a run request has flow, input, inputs, variables, tweaks.")]
    [InlineData("""[]""", "$", "The run request must be a JSON object.")]
    [InlineData("""{"input":null,"variables":{"language":"French"}}""", "input", "Required: the text for input node 'in'.")]
    [InlineData("""{"inputs":{"in":1},"variables":{"language":"French"}}""", "inputs.in", "Must be a string.")]
    [InlineData("""{"inputs":{"nput":"hi"},"variables":{"language":"French"}}""", "inputs.in", "Required: the text for input node 'in'.")]
    [InlineData("""{"input":"hi","variables":null}""", "variables.language", "Required: node 'p' uses {{language}}, which is not a node id, so the run must supply it.")]
    public async Task InvalidRunRequest_Returns400AtThePath_AndStartsNoRun(string request, string path, string message)
    {
        var body = request.StartsWith('{') ? """{"flow":""" + Flow + "," + request[1..] : request;

        using var response = await gateway.Client.PostAsync("/api/runs", Json.Body(body));

        var errors = await Problems.ReadValidationErrorsAsync(response);
        Assert.Equal([message], Problems.At(errors, path));
        Assert.False(response.Headers.Contains("X-Run-Id"));
    }

    [Fact]
    public async Task InputsOrVariablesOfTheWrongShape_AreThatOneError_NotAlsoEveryTextTheyWouldHold()
    {
        var body = """{"flow":""" + Flow + ""","inputs":"hi","variables":"French"}""";

        using var response = await gateway.Client.PostAsync("/api/runs", Json.Body(body));

        var errors = await Problems.ReadValidationErrorsAsync(response);
        Assert.Equal(["inputs", "variables"], errors.Select(error => error.Key).Order());
        Assert.Equal(["Must be an object of strings."], Problems.At(errors, "inputs"));
    }

    [Fact]
    public async Task InlineFlowProblems_AreKeyedUnderFlow()
    {
        using var response = await gateway.Client.PostAsync("/api/runs", Json.Body("""
            {"flow":{"nodes":[{"id":"in","type":"input"},{"id":"say","type":"llm","model":"gpt-9","prompt":"in"}]},"input":"x"}
            """));

        var errors = await Problems.ReadValidationErrorsAsync(response);
        Assert.Equal(["flow.nodes", "flow.nodes[1].model"], errors.Select(e => e.Key).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task AnInvalidFlow_DoesNotHideTheRequestsOwnProblems()
    {
        using var invalidFlow = await gateway.Client.PostAsync("/api/runs", Json.Body("""
            {"flow":{"nodes":[{"id":"in","type":"input"},{"id":"say","type":"llm","model":"gpt-9","prompt":"in"},
              {"id":"out","type":"output","from":["say"]}]},"input":5,"variables":{"language":1},"inputs":[]}
            """));
        using var noFlow = await gateway.Client.PostAsync("/api/runs", Json.Body("""{"input":["x"]}"""));

        var errors = await Problems.ReadValidationErrorsAsync(invalidFlow);
        Assert.Equal(["flow.nodes[1].model", "input", "inputs", "variables.language"], errors.Select(e => e.Key).Order(StringComparer.Ordinal));
        Assert.Equal(["Must be a string."], Problems.At(errors, "input"));
        Assert.Equal(["Must be an object of strings."], Problems.At(errors, "inputs"));
        var missing = await Problems.ReadValidationErrorsAsync(noFlow);
        Assert.Equal(["flow", "input"], missing.Select(e => e.Key).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task SavedFlowTweakedIntoACycle_IsReportedUnderTweaks_NamingWhereInTheFlow()
    {
        using var saved = await gateway.Client.PostAsync("/api/flows", Json.Body(Flow.Replace("""{"nodes":""", """{"id":"tweak-cycle","nodes":""", StringComparison.Ordinal)));
        Assert.True(saved.IsSuccessStatusCode, $"saving the flow: {(int)saved.StatusCode}");

        using var response = await gateway.Client.PostAsync("/api/flows/tweak-cycle/run", Json.Body("""
            {"input":"hi","variables":{"language":"French"},"tweaks":{"p":{"template":"{{say}}"}}}
            """));

        var errors = await Problems.ReadValidationErrorsAsync(response);
        Assert.Equal(["tweaks"], errors.Select(e => e.Key));
        Assert.Equal(["The saved flow, as tweaked, is not valid at nodes[1]: Nodes form a cycle: p → say → p."], Problems.At(errors, "tweaks"));
    }

    [Fact]
    public async Task MissingFlow_Returns400()
    {
        using var response = await gateway.Client.PostAsync("/api/runs", Json.Body("""{"input":"x"}"""));

        Assert.Equal(["Required: the flow to run."], Problems.At(await Problems.ReadValidationErrorsAsync(response), "flow"));
    }

    [Theory]
    [InlineData("2.0", "2e0")]
    [InlineData("2", "2.00")]
    public async Task AWholeNumberWrittenWithAFraction_IsThatNumber_InAFlowAndInATweak(string saved, string tweak)
    {
        // What Python's json.dumps writes for a float, and JSON Schema's integer (what /api/components publishes) allows.
        var flow = Flow.Replace("\"prompt\":\"p\"}", $$"""
            "prompt":"p","maxTokens":{{saved}}}
            """.Trim(), StringComparison.Ordinal);

        using var plain = await gateway.Client.PostAsync("/api/runs", Json.Body($$$"""{"flow":{{{flow}}},"input":"one two three","variables":{"language":"French"}}"""));
        using var tweaked = await gateway.Client.PostAsync(
            "/api/runs", Json.Body($$$$"""{"flow":{{{{flow}}}},"input":"one two three","variables":{"language":"French"},"tweaks":{"say":{"maxTokens":{{{{tweak}}}}}}}"""));

        Assert.Equal(HttpStatusCode.OK, plain.StatusCode);
        Assert.Equal("one two", (await Json.ReadAsync(plain))["outputs"]!["say"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.OK, tweaked.StatusCode);
        Assert.Equal("one two", (await Json.ReadAsync(tweaked))["outputs"]!["say"]!.GetValue<string>());
    }

    /// <summary>Until 2026-12-06 a null tweak was a 400 ("Must be a number from 0 to 2."), though null is "not sent" everywhere else.</summary>
    [Fact]
    public async Task NullTweaks_AreTweaksNotSent_TheFlowsOwnValuesHold()
    {
        var flow = Flow.Replace("\"prompt\":\"p\"}", "\"prompt\":\"p\",\"maxTokens\":2}", StringComparison.Ordinal);
        var body = """{"flow":""" + flow + ""","input":"one two three","variables":{"language":"French"},"tweaks":{"say":{"maxTokens":null,"temperature":null,"system":null},"p":null}}""";

        using var response = await gateway.Client.PostAsync("/api/runs", Json.Body(body));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var record = await Json.ReadAsync(response);
        Assert.Equal("one two", record["outputs"]!["say"]!.GetValue<string>());
        Assert.Equal("length", record["nodes"]!["say"]!["finishReason"]!.GetValue<string>());
    }

    [Fact]
    public async Task Tweaks_ChangeOnlyThisRun()
    {
        var body = """{"flow":""" + Flow + ""","input":"one two three","variables":{"language":"French"},"tweaks":{"say":{"maxTokens":2,"temperature":0}}}""";

        using var tweaked = await gateway.Client.PostAsync("/api/runs", Json.Body(body));

        var record = await Json.ReadAsync(tweaked);
        Assert.Equal("one two", record["outputs"]!["say"]!.GetValue<string>());
        Assert.Equal("length", record["nodes"]!["say"]!["finishReason"]!.GetValue<string>());
    }

    [Fact]
    public async Task MalformedJsonAndWrongContentType_AreProblemDetails()
    {
        using var malformed = await gateway.Client.PostAsync("/api/runs", Json.Body("""{"flow":"""));
        using var plain = await gateway.Client.PostAsync("/api/runs", new StringContent("{}", System.Text.Encoding.UTF8, "text/plain"));
        using var empty = await gateway.Client.PostAsync("/api/runs", null);

        Assert.Equal(HttpStatusCode.BadRequest, malformed.StatusCode);
        Assert.Equal("application/problem+json", malformed.Content.Headers.ContentType!.MediaType);
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, plain.StatusCode);
        Assert.Equal("application/problem+json", plain.Content.Headers.ContentType!.MediaType);
        Assert.Equal(HttpStatusCode.BadRequest, empty.StatusCode);
        Assert.Equal("The request needs a JSON body.", (await Json.ReadAsync(empty))["detail"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("stream=maybe", "stream")]
    [InlineData("background=2", "background")]
    public async Task AQueryFlagThatIsNotTrueOrFalse_Returns400NamingIt_AndStartsNoRun(string query, string parameter)
    {
        var body = """{"flow":""" + Flow + ""","input":"hi","variables":{"language":"French"}}""";
        var runsBefore = await CountRunsAsync();

        using var response = await gateway.Client.PostAsync($"/api/runs?{query}", Json.Body(body));

        Assert.Equal("application/problem+json", response.Content.Headers.ContentType!.MediaType);
        var errors = await Problems.ReadValidationErrorsAsync(response);
        Assert.Equal(["Must be true or false (or 1 or 0)."], Problems.At(errors, parameter));
        Assert.Equal(runsBefore, await CountRunsAsync());
    }

    private async Task<int> CountRunsAsync()
    {
        using var runs = await gateway.Client.GetAsync("/api/runs?limit=100");
        return (await Json.ReadAsync(runs)).AsArray().Count;
    }
}
