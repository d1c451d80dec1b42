using System.Net;
using System.Text.Json.Nodes;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Flows;

public sealed class FlowsApiTests(SimulatedGateway gateway) : IClassFixture<SimulatedGateway>
{
    private static string Flow(string id, string template = "Say: {{in}}") => $$"""
        {"id":"{{id}}","name":"Echo","nodes":[{"id":"in","type":"input"},{"id":"p","type":"prompt","template":"{{template}}"},
          {"id":"say","type":"llm","model":"echo","prompt":"p"},{"id":"out","type":"output","from":["say"]}]}
        """;

    [Fact]
    public async Task Create_Returns201WithLocationAndTheFlow_ThenGetReturnsIt()
    {
        using var created = await gateway.Client.PostAsync("/api/flows", Json.Body(Flow("crud-create")));

        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Equal("/api/flows/crud-create", created.Headers.Location!.OriginalString);
        var body = await Json.ReadAsync(created);
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(Flow("crud-create")), body));

        using var fetched = await gateway.Client.GetAsync("/api/flows/crud-create");
        Assert.Equal(HttpStatusCode.OK, fetched.StatusCode);
        Assert.True(JsonNode.DeepEquals(body, await Json.ReadAsync(fetched)));
    }

    [Fact]
    public async Task Create_WithoutAnId_GeneratesOne()
    {
        var flow = JsonNode.Parse(Flow("ignored"))!.AsObject();
        flow.Remove("id");

        using var created = await gateway.Client.PostAsync("/api/flows", Json.Body(flow.ToJsonString()));

        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var id = (await Json.ReadAsync(created))["id"]!.GetValue<string>();
        Assert.Matches("^[A-Za-z0-9_-]{1,64}$", id);
        Assert.Equal($"/api/flows/{id}", created.Headers.Location!.OriginalString);
    }

    [Fact]
    public async Task Create_ExistingId_Returns409()
    {
        using var first = await gateway.Client.PostAsync("/api/flows", Json.Body(Flow("crud-twice")));
        using var second = await gateway.Client.PostAsync("/api/flows", Json.Body(Flow("crud-twice")));

        Assert.Equal(HttpStatusCode.Conflict, second.StatusCode);
        Assert.Equal("application/problem+json", second.Content.Headers.ContentType!.MediaType);
    }

    [Fact]
    public async Task Replace_ChangesTheFlow_AndTheBodyIdMayBeLeftOut()
    {
        using var created = await gateway.Client.PostAsync("/api/flows", Json.Body(Flow("crud-replace")));
        var changed = JsonNode.Parse(Flow("crud-replace", "Shout: {{in}}"))!.AsObject();
        changed.Remove("id");

        using var replaced = await gateway.Client.PutAsync("/api/flows/crud-replace", Json.Body(changed.ToJsonString()));

        Assert.Equal(HttpStatusCode.OK, replaced.StatusCode);
        using var fetched = await gateway.Client.GetAsync("/api/flows/crud-replace");
        Assert.Equal("Shout: {{in}}", (await Json.ReadAsync(fetched))["nodes"]![1]!["template"]!.GetValue<string>());
    }

    [Fact]
    public async Task Replace_WithAnotherIdInTheBody_Returns400()
    {
        using var created = await gateway.Client.PostAsync("/api/flows", Json.Body(Flow("crud-mismatch")));

        using var replaced = await gateway.Client.PutAsync("/api/flows/crud-mismatch", Json.Body(Flow("other")));

        var errors = await Problems.ReadValidationErrorsAsync(replaced);
        Assert.Equal(["Must be the id in the URL ('crud-mismatch') or left out."], Problems.At(errors, "id"));
    }

    [Fact]
    public async Task Replace_InvalidFlow_Returns400AndKeepsTheOldOne()
    {
        using var created = await gateway.Client.PostAsync("/api/flows", Json.Body(Flow("crud-keep")));

        using var replaced = await gateway.Client.PutAsync("/api/flows/crud-keep", Json.Body("""{"nodes":[]}"""));

        await Problems.ReadValidationErrorsAsync(replaced);
        using var fetched = await gateway.Client.GetAsync("/api/flows/crud-keep");
        Assert.Equal(4, (await Json.ReadAsync(fetched))["nodes"]!.AsArray().Count);
    }

    [Fact]
    public async Task Delete_Returns204_ThenTheFlowIsGone()
    {
        using var created = await gateway.Client.PostAsync("/api/flows", Json.Body(Flow("crud-delete")));

        using var deleted = await gateway.Client.DeleteAsync("/api/flows/crud-delete");

        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        using var fetched = await gateway.Client.GetAsync("/api/flows/crud-delete");
        Assert.Equal(HttpStatusCode.NotFound, fetched.StatusCode);
        using var again = await gateway.Client.DeleteAsync("/api/flows/crud-delete");
        Assert.Equal(HttpStatusCode.NotFound, again.StatusCode);
    }

    [Theory]
    [InlineData("GET")]
    [InlineData("PUT")]
    [InlineData("DELETE")]
    public async Task UnknownFlow_Returns404ProblemDetails(string method)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), "/api/flows/no-such-flow")
        {
            Content = method == "PUT" ? Json.Body(Flow("no-such-flow")) : null,
        };

        using var response = await gateway.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType!.MediaType);
        Assert.Equal("No flow has the id 'no-such-flow'.", (await Json.ReadAsync(response))["detail"]!.GetValue<string>());
    }

    [Fact]
    public async Task List_ReturnsSavedFlowsById()
    {
        using var b = await gateway.Client.PostAsync("/api/flows", Json.Body(Flow("list-b")));
        using var a = await gateway.Client.PostAsync("/api/flows", Json.Body(Flow("list-a")));

        using var response = await gateway.Client.GetAsync("/api/flows");

        var ids = (await Json.ReadAsync(response)).AsArray().Select(f => f!["id"]!.GetValue<string>()).Where(id => id.StartsWith("list-", StringComparison.Ordinal));
        Assert.Equal(["list-a", "list-b"], ids);
    }
}
