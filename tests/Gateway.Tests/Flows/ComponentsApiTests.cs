using System.Net;
using System.Text.Json.Nodes;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Flows;

public sealed class ComponentsApiTests(SimulatedGateway gateway) : IClassFixture<SimulatedGateway>
{
    [Fact]
    public async Task ListsTheFourNodeTypesWithTheirSchemas()
    {
        var components = await GetComponentsAsync();

        Assert.Equal(["input", "prompt", "llm", "output"], components.Select(c => c!["type"]!.GetValue<string>()));
        var llm = components.Single(c => c!["type"]!.GetValue<string>() == "llm")!;
        var schema = llm["schema"]!;
        Assert.Equal("object", schema["type"]!.GetValue<string>());
        Assert.False(schema["additionalProperties"]!.GetValue<bool>());
        Assert.Equal(["id", "type", "model", "prompt"], schema["required"]!.AsArray().Select(r => r!.GetValue<string>()));
        Assert.Equal(["echo", "lorem"], schema["properties"]!["model"]!["enum"]!.AsArray().Select(a => a!.GetValue<string>()));
        Assert.Equal(2, schema["properties"]!["temperature"]!["maximum"]!.GetValue<double>());
        var parameters = llm["parameters"]!.AsArray();
        Assert.False(parameters.Single(p => p!["name"]!.GetValue<string>() == "prompt")!["tweakable"]!.GetValue<bool>());
        Assert.True(parameters.Single(p => p!["name"]!.GetValue<string>() == "temperature")!["tweakable"]!.GetValue<bool>());
    }

    /// <summary>
    /// The catalog and the validator cannot drift: a node carrying every parameter the catalog lists, each with a
    /// value its schema allows, is accepted and comes back unchanged; one more field is refused.
    /// </summary>
    [Fact]
    public async Task ANodeWithEveryListedParameterIsAccepted_AndAnyOtherFieldIsRejected()
    {
        var samples = new Dictionary<string, JsonNode>
        {
            ["template"] = "{{in}}",
            ["model"] = "echo",
            ["prompt"] = "in",
            ["system"] = "Be brief.",
            ["temperature"] = 0.5,
            ["topP"] = 0.9,
            ["maxTokens"] = 10,
            ["stop"] = new JsonArray("END"),
            ["from"] = new JsonArray("in"),
        };

        foreach (var component in await GetComponentsAsync())
        {
            var type = component!["type"]!.GetValue<string>();
            var node = new JsonObject { ["id"] = "n", ["type"] = type };
            foreach (var parameter in component["parameters"]!.AsArray())
            {
                var name = parameter!["name"]!.GetValue<string>();
                node[name] = samples[name].DeepClone();
            }

            var flow = FlowWith(node);
            using var created = await gateway.Client.PostAsync("/api/flows", Json.Body(flow.ToJsonString()));
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
            Assert.True(JsonNode.DeepEquals(node, (await Json.ReadAsync(created))["nodes"]![1]), $"the {type} node should come back as sent");

            node["unlisted"] = 1;
            using var rejected = await gateway.Client.PostAsync("/api/flows", Json.Body(FlowWith(node).ToJsonString()));
            var errors = await Problems.ReadValidationErrorsAsync(rejected);
            Assert.True(errors.ContainsKey("nodes[1].unlisted"));
        }
    }

    private static JsonObject FlowWith(JsonObject node) => new()
    {
        ["nodes"] = new JsonArray(
            new JsonObject { ["id"] = "in", ["type"] = "input" },
            node.DeepClone(),
            new JsonObject { ["id"] = "out", ["type"] = "output", ["from"] = new JsonArray("in") }),
    };

    private async Task<JsonArray> GetComponentsAsync()
    {
        using var response = await gateway.Client.GetAsync("/api/components");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await Json.ReadAsync(response)).AsArray();
    }
}
