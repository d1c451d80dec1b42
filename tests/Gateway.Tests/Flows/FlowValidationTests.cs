using System.Net;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Flows;

/// <summary>Every validation rule of DESIGN §4, through <c>POST /api/flows</c> as a caller meets it.</summary>
public sealed class FlowValidationTests(SimulatedGateway gateway) : IClassFixture<SimulatedGateway>
{
    private const string Input = """{"id":"in","type":"input"}""";
    private const string Output = """{"id":"out","type":"output","from":["in"]}""";

    [Theory]
    [InlineData("""{"id":"in","type":"input"},{"id":"has space","type":"output","from":["in"]}""", "nodes[1].id", "A node id must be 1 to 64 letters, digits, '_' or '-'.")]
    [InlineData("""{"id":"in\n","type":"input"},{"id":"out","type":"output","from":["in\n"]}""", "nodes[0].id", "A node id must be 1 to 64 letters, digits, '_' or '-'.")]
    [InlineData("""{"type":"input"},""" + Output, "nodes[0].id", "Required.")]
    [InlineData("""{"id":7,"type":"input"},""" + Output, "nodes[0].id", "A node id must be 1 to 64 letters, digits, '_' or '-'.")]
    [InlineData(Input + "," + Output + """,{"id":"in","type":"input"}""", "nodes[2].id", "Duplicate node id 'in': nodes[0] has it too.")]
    [InlineData(Input + """,{"id":"ask","type":"llm","model":"echo","prompt":"nowhere"},""" + Output, "nodes[1].prompt", "No node has the id 'nowhere'.")]
    [InlineData(Input + """,{"id":"out","type":"output","from":["in","ghost"]}""", "nodes[1].from[1]", "No node has the id 'ghost'.")]
    [InlineData(Input + "," + Output + """,{"id":"ask","type":"llm","model":"echo","prompt":"out"}""", "nodes[2].prompt", "Node 'out' is an output node and has no text to use.")]
    [InlineData(Input + "," + Output + """,{"id":"p","type":"prompt","template":"{{out}}"}""", "nodes[2].template", "Node 'out' is an output node and has no text to use.")]
    [InlineData(Input + "," + Output + """,{"id":"ask","type":"llm","model":"echo","prompt":"in","system":"{{out}}"}""", "nodes[2].system", "Node 'out' is an output node and has no text to use.")]
    [InlineData("""{"id":"a","type":"prompt","template":"{{b}}"},{"id":"b","type":"prompt","template":"{{a}}"},{"id":"out","type":"output","from":["a"]}""", "nodes[0]", "Nodes form a cycle: a → b → a.")]
    [InlineData("""{"id":"me","type":"llm","model":"echo","prompt":"me"},{"id":"out","type":"output","from":["me"]}""", "nodes[0]", "Nodes form a cycle: me → me.")]
    [InlineData(Input + """,{"id":"x","type":"webhook"},""" + Output, "nodes[1].type", "Unknown node type 'webhook'; the types are input, prompt, llm, output.")]
    [InlineData(Input + """,{"id":"x"},""" + Output, "nodes[1].type", "Required: one of input, prompt, llm, output.")]
    [InlineData(Input + """,{"id":"x","type":"llm","model":"echo","prompt":"in","template":"{{in}}"},""" + Output, "nodes[1].template", "Unknown field for a 'llm' node; it takes id, type, model, prompt, system, temperature, topP, maxTokens, stop.")]
    [InlineData("""{"id":"in","type":"input","default":"hi"},""" + Output, "nodes[0].default", "Unknown field for a 'input' node; it takes only id and type.")]
    [InlineData(Input + """,{"id":"x","type":"llm","prompt":"in"},""" + Output, "nodes[1].model", "Required for a 'llm' node.")]
    [InlineData(Input + """,{"id":"x","type":"llm","model":"gpt-9","prompt":"in"},""" + Output, "nodes[1].model", "Unknown model 'gpt-9'; this gateway serves: echo, lorem.")]
    [InlineData(Input + """,{"id":"x","type":"llm","model":42,"prompt":"in"},""" + Output, "nodes[1].model", "Must be a string.")]
    [InlineData(Input + """,{"id":"x","type":"llm","model":"echo","prompt":"in","temperature":"hot"},""" + Output, "nodes[1].temperature", "Must be a number from 0 to 2.")]
    [InlineData(Input + """,{"id":"x","type":"llm","model":"echo","prompt":"in","temperature":2.5},""" + Output, "nodes[1].temperature", "Must be a number from 0 to 2.")]
    [InlineData(Input + """,{"id":"x","type":"llm","model":"echo","prompt":"in","topP":-0.1},""" + Output, "nodes[1].topP", "Must be a number from 0 to 1.")]
    [InlineData(Input + """,{"id":"x","type":"llm","model":"echo","prompt":"in","maxTokens":0},""" + Output, "nodes[1].maxTokens", "Must be a whole number from 1 to 1000000.")]
    [InlineData(Input + """,{"id":"x","type":"llm","model":"echo","prompt":"in","maxTokens":1.5},""" + Output, "nodes[1].maxTokens", "Must be a whole number from 1 to 1000000.")]
    [InlineData(Input + """,{"id":"x","type":"llm","model":"lorem","prompt":"in","maxTokens":2147483647},""" + Output, "nodes[1].maxTokens", "Must be a whole number from 1 to 1000000.")]
    [InlineData(Input + """,{"id":"x","type":"llm","model":"echo","prompt":"in","stop":["a","b","c","d","e"]},""" + Output, "nodes[1].stop", "May hold at most 4 strings.")]
    [InlineData(Input + """,{"id":"x","type":"llm","model":"echo","prompt":"in","stop":"END"},""" + Output, "nodes[1].stop", "Must be an array of strings.")]
    [InlineData(Input + """,{"id":"p","type":"prompt","template":null},""" + Output, "nodes[1].template", "Required for a 'prompt' node.")]
    [InlineData(Input + """,{"id":"p","type":"prompt","template":"x","secret":null},""" + Output, "nodes[1].secret", "Unknown field for a 'prompt' node; it takes id, type, template.")]
    [InlineData(Input + """,{"id":"out","type":"output","from":[]}""", "nodes[1].from", "Must name at least one node.")]
    [InlineData(Input + """,{"id":"out","type":"output","from":"in"}""", "nodes[1].from", "Must be an array of strings.")]
    [InlineData(Input + """,{"id":"p","type":"prompt","template":"{{in}}"}""", "nodes", "A flow needs at least one output node.")]
    [InlineData(Input + ",42," + Output, "nodes[1]", "A node must be a JSON object.")]
    public async Task InvalidNode_Returns400WithTheProblemAtItsPath(string nodes, string path, string message)
    {
        var errors = await PostInvalidAsync($$"""{"id":"f","nodes":[{{nodes}}]}""");

        Assert.Equal([message], Problems.At(errors, path));
    }

    [Theory]
    [InlineData("""{"id":"bad id","nodes":[]}""", "id", "A flow id must be 1 to 64 letters, digits, '_' or '-'.")]
    [InlineData("""{"id":"x12345678901234567890123456789012345678901234567890123456789012345","nodes":[]}""", "id", "A flow id must be 1 to 64 letters, digits, '_' or '-'.")]
    [InlineData("""{"id":"f\n","nodes":[]}""", "id", "A flow id must be 1 to 64 letters, digits, '_' or '-'.")]
    [InlineData("""{"name":5,"nodes":[]}""", "name", "Must be a string.")]
    [InlineData("""{"owner":"me","nodes":[]}""", "owner", "Unknown field; a flow has id, name, description, nodes.")]
    [InlineData("""{"id":"f"}""", "nodes", "Required.")]
    [InlineData("""{"id":"f","nodes":{}}""", "nodes", "Must be an array of nodes.")]
    [InlineData("""[1,2]""", "$", "A flow must be a JSON object.")]
    public async Task InvalidFlow_Returns400WithTheProblemAtItsPath(string flow, string path, string message)
    {
        var errors = await PostInvalidAsync(flow);

        Assert.Contains(message, Problems.At(errors, path));
    }

    [Fact]
    public async Task EveryProblemIsReportedAtOnce()
    {
        var errors = await PostInvalidAsync("""
            {"id":"bad id","colour":"red","nodes":[
              {"id":"q","type":"input"},
              {"id":"ask","type":"llm","model":"gpt-9","prompt":"nowhere","temperature":9},
              {"id":"q","type":"prompt","template":"{{q}}"}]}
            """);

        Assert.Equal(["colour", "id", "nodes", "nodes[1].model", "nodes[1].prompt", "nodes[1].temperature", "nodes[2].id"], errors.Select(e => e.Key).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task ANodeWhoseIdIsNotValidOrTaken_HasItsReferencesCheckedToo()
    {
        var errors = await PostInvalidAsync("""
            {"id":"f","nodes":[
              {"id":"q","type":"input"},
              {"id":"bad id","type":"llm","model":"echo","prompt":"ghost","system":"{{out}}"},
              {"id":"q","type":"output","from":["nope"]},
              {"id":"out","type":"output","from":["q"]}]}
            """);

        Assert.Equal(["nodes[1].id", "nodes[1].prompt", "nodes[1].system", "nodes[2].from[0]", "nodes[2].id"], errors.Select(e => e.Key).Order(StringComparer.Ordinal));
        Assert.Equal(["No node has the id 'ghost'."], Problems.At(errors, "nodes[1].prompt"));
        Assert.Equal(["Node 'out' is an output node and has no text to use."], Problems.At(errors, "nodes[1].system"));
        Assert.Equal(["No node has the id 'nope'."], Problems.At(errors, "nodes[2].from[0]"));
    }

    [Fact]
    public async Task MoreNodesThanTheLimit_Returns400NamingTheLimit_AndTheLimitItselfIsAccepted()
    {
        // An input, a chain of prompt nodes that each repeat the one before, and an output: nodes in all.
        static string Chain(int nodes)
        {
            var prompts = Enumerable.Range(1, nodes - 2)
                .Select(i => "{\"id\":\"n" + i + "\",\"type\":\"prompt\",\"template\":\"{{n" + (i - 1) + "}}\"}");
            return "{\"id\":\"long\",\"nodes\":[{\"id\":\"n0\",\"type\":\"input\"}," + string.Join(",", prompts)
                + ",{\"id\":\"out\",\"type\":\"output\",\"from\":[\"n" + (nodes - 2) + "\"]}]}";
        }

        var errors = await PostInvalidAsync(Chain(257));
        Assert.Equal(["A flow may have at most 256 nodes; this one has 257."], Problems.At(errors, "nodes"));

        using var accepted = await gateway.Client.PostAsync("/api/flows", Json.Body(Chain(256)));
        Assert.Equal(HttpStatusCode.Created, accepted.StatusCode);
    }

    /// <summary>
    /// A flow that repeats one mistake many times (here 300 unknown fields on each of 250 nodes, 800 KB) is answered
    /// with the first 100 problems and the count of the rest: until 2026-12-06 with every one, a 400 of 6 MB.
    /// </summary>
    [Fact]
    public async Task AFlowWithThousandsOfProblems_ListsTheFirst100_AndCountsTheRest()
    {
        var fields = string.Join(",", Enumerable.Range(0, 300).Select(j => $"\"z{j}\":1"));
        var nodes = Enumerable.Range(0, 250).Select(i => $$"""{"id":"n{{i}}","type":"prompt","template":"x",{{fields}}}""");
        var flow = $$"""{"id":"wide","nodes":[{{string.Join(",", nodes)}},{"id":"o","type":"output","from":["n0"]}]}""";

        using var response = await gateway.Client.PostAsync("/api/flows", Json.Body(flow));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.True(response.Content.Headers.ContentLength is null or < 64 * 1024, $"a 400 of {response.Content.Headers.ContentLength} bytes");
        var errors = await Problems.ReadValidationErrorsAsync(response);
        Assert.Equal(100, errors.Where(pair => pair.Key != "$").Sum(pair => pair.Value!.AsArray().Count));
        Assert.Equal(["... and 74,900 more problems, not listed: mend these and send it again."], Problems.At(errors, "$"));
        Assert.StartsWith("Unknown field for a 'prompt' node", Problems.At(errors, "nodes[0].z0")[0], StringComparison.Ordinal);

        // A run request merges the flow's problems into its own: all of them are counted, not only the listed ones.
        using var run = await gateway.Client.PostAsync("/api/runs", Json.Body($$"""{"flow":{{flow}},"q1":1,"q2":2}"""));
        Assert.Equal(HttpStatusCode.BadRequest, run.StatusCode);
        var runErrors = await Problems.ReadValidationErrorsAsync(run);
        Assert.Equal(["... and 74,902 more problems, not listed: mend these and send it again."], Problems.At(runErrors, "$"));
    }

    [Fact]
    public async Task OptionalFieldsSentAsNull_AreFieldsNotSent_AsAClientGeneratedFromTheOneNodeSchemaSendsThem()
    {
        // The OpenAPI document has one schema for every node type, its optional members nullable: NSwag and
        // openapi-generator clients send every member, null where unset.
        const string Unset = """
            "template":null,"model":null,"prompt":null,"system":null,"temperature":null,"topP":null,"maxTokens":null,"stop":null,"from":null
            """;
        var flow = $$"""
            {"id":null,"name":null,"description":null,"nodes":[
              {"id":"in","type":"input",{{Unset.Replace("\"prompt\":null,", "", StringComparison.Ordinal)}},"prompt":null},
              {"id":"out","type":"output",{{Unset.Replace("\"from\":null", "\"from\":[\"in\"]", StringComparison.Ordinal)}}}]}
            """;

        using var created = await gateway.Client.PostAsync("/api/flows", Json.Body(flow));

        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var saved = await Json.ReadAsync(created);
        Assert.Matches("^[A-Za-z0-9_-]{1,64}$", saved["id"]!.GetValue<string>()); // generated, as for a flow sent without one
        using var run = await gateway.Client.PostAsync(
            $"/api/flows/{saved["id"]}/run", Json.Body("""{"input":"hello","inputs":null,"variables":null,"tweaks":null}"""));
        Assert.Equal(HttpStatusCode.OK, run.StatusCode);
        Assert.Equal("hello", (await Json.ReadAsync(run))["outputs"]!["in"]!.GetValue<string>());
    }

    [Fact]
    public async Task MalformedJson_Returns400ProblemDetails()
    {
        using var response = await gateway.Client.PostAsync("/api/flows", Json.Body("""{"id":"f","nodes":["""));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType!.MediaType);
        Assert.StartsWith("The request body is not valid JSON", (await Json.ReadAsync(response))["detail"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("POST", "/api/flows", """{"id":"f","name":"\ud800x","nodes":[]}""", "$.name")]
    [InlineData("POST", "/api/runs", """{"flow":{"nodes":[{"id":"q","type":"input"},{"id":"o","type":"output","from":["q"]}]},"input":"\udc00"}""", "$.input")]
    [InlineData("POST", "/api/runs", """{"flow":{"nodes":[{"id":"q","type":"input"},{"id":"o","type":"output","from":["q"]}]},"input":"x","variables":{"\udc00":"y"}}""", "a property name")]
    [InlineData("POST", "/api/runs", """{"flow":{"nodes":[{"id":"q","type":"input"},{"id":"o","type":"output","from":["q"]}]},"inputs":{"q":"ok","r":["\udc00"]}}""", "$.inputs.r[0]")]
    [InlineData("PUT", "/api/flows/f", "{\"id\":\"f\xff\xfe\",\"nodes\":[]}", "$.id")]
    [InlineData("POST", "/api/flows/f/run", "{\"input\":\"a\xff\"}", "$.input")]
    public async Task TextThatIsNotUnicode_Returns400NamingWhere_NotA500(string method, string path, string body, string where)
    {
        // Latin-1, so that \xff in a literal is sent as that raw byte: invalid UTF-8, as a broken client sends it.
        using var request = new HttpRequestMessage(new HttpMethod(method), path) { Content = new ByteArrayContent(System.Text.Encoding.Latin1.GetBytes(body)) };
        request.Content.Headers.ContentType = new("application/json");
        using var response = await gateway.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var detail = (await Json.ReadAsync(response))["detail"]!.GetValue<string>();
        Assert.StartsWith("The request body is not valid JSON", detail, StringComparison.Ordinal);
        Assert.Contains(where, detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ALongKeyOverAWideArray_IsCheckedInLinearTime()
    {
        // 0.3 MB of key over 200,000 items: building each item's path on the way down copied the key 200,000 times.
        var body = $$"""{"flow":{"nodes":[]},"{{new string('k', 300_000)}}":[{{string.Join(',', Enumerable.Repeat('0', 200_000))}}]}""";
        var clock = System.Diagnostics.Stopwatch.StartNew();

        using var response = await gateway.Client.PostAsync("/api/runs", Json.Body(body));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), $"took {clock.Elapsed.TotalSeconds:0.0} s");
    }

    [Fact]
    public async Task DuplicateJsonProperty_Returns400()
    {
        using var response = await gateway.Client.PostAsync("/api/flows", Json.Body("""{"id":"a","id":"b","nodes":[]}"""));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType!.MediaType);
    }

    [Fact]
    public async Task WrongContentType_Returns415ProblemDetails()
    {
        using var response = await gateway.Client.PostAsync("/api/flows", new StringContent("{}", System.Text.Encoding.UTF8, "text/plain"));

        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType!.MediaType);
        Assert.Equal("The request body must be JSON (Content-Type: application/json).", (await Json.ReadAsync(response))["detail"]!.GetValue<string>());
    }

    [Fact]
    public async Task TemplateNameThatIsNotANode_IsARunVariableAndTheFlowSaves()
    {
        using var response = await gateway.Client.PostAsync("/api/flows", Json.Body("""
            {"nodes":[{"id":"in","type":"input"},{"id":"p","type":"prompt","template":"{{in}} in {{language}}"},
                      {"id":"out","type":"output","from":["p"]}]}
            """));

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
    }

    private async Task<System.Text.Json.Nodes.JsonObject> PostInvalidAsync(string flow)
    {
        using var response = await gateway.Client.PostAsync("/api/flows", Json.Body(flow));
        return await Problems.ReadValidationErrorsAsync(response);
    }
}
