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

    /// <summary>
    /// Two admins read a flow and both edit it: the second, sending the tag it read, is refused with 412 and the flow's
    /// tag now, instead of overwriting the first one's change unseen (the last write won until 2026-12-07).
    /// </summary>
    [Fact]
    public async Task Replace_WithTheTagRead_Succeeds_ThenTheSameTagAgain_Is412AndKeepsTheFirstChange()
    {
        using var created = await gateway.Client.PostAsync("/api/flows", Json.Body(Flow("tag-replace")));
        using var read = await gateway.Client.GetAsync("/api/flows/tag-replace");
        var tag = read.Headers.ETag!;
        Assert.Equal(created.Headers.ETag, tag);
        Assert.False(tag.IsWeak);

        using var first = await SendAsync(HttpMethod.Put, "/api/flows/tag-replace", tag.Tag, Flow("tag-replace", "First: {{in}}"));
        using var second = await SendAsync(HttpMethod.Put, "/api/flows/tag-replace", tag.Tag, Flow("tag-replace", "Second: {{in}}"));

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.NotEqual(tag, first.Headers.ETag);
        Assert.Equal(HttpStatusCode.PreconditionFailed, second.StatusCode);
        Assert.Equal(first.Headers.ETag, second.Headers.ETag);
        Assert.Equal(
            $"The flow 'tag-replace' has changed since the version If-Match names: its tag is now {first.Headers.ETag!.Tag}. GET it again and make the change to that version.",
            (await Json.ReadAsync(second))["detail"]!.GetValue<string>());
        using var fetched = await gateway.Client.GetAsync("/api/flows/tag-replace");
        Assert.Equal("First: {{in}}", (await Json.ReadAsync(fetched))["nodes"]![1]!["template"]!.GetValue<string>());
        Assert.Equal(first.Headers.ETag, fetched.Headers.ETag);
    }

    [Fact]
    public async Task Delete_WithAnOldTag_Is412_WithTheCurrentOne_Deletes()
    {
        using var created = await gateway.Client.PostAsync("/api/flows", Json.Body(Flow("tag-delete")));
        using var replaced = await gateway.Client.PutAsync("/api/flows/tag-delete", Json.Body(Flow("tag-delete", "Changed: {{in}}")));

        using var stale = await SendAsync(HttpMethod.Delete, "/api/flows/tag-delete", created.Headers.ETag!.Tag);
        using var current = await SendAsync(HttpMethod.Delete, "/api/flows/tag-delete", $"\"not-it\", {replaced.Headers.ETag!.Tag}");

        Assert.Equal(HttpStatusCode.PreconditionFailed, stale.StatusCode);
        Assert.Equal("application/problem+json", stale.Content.Headers.ContentType!.MediaType);
        Assert.Equal(HttpStatusCode.NoContent, current.StatusCode);
    }

    /// <summary><c>*</c> matches any saved flow; a weak tag never does (If-Match compares strongly).</summary>
    [Fact]
    public async Task IfMatch_StarMatchesAnySavedFlow_AWeakTagNone()
    {
        using var created = await gateway.Client.PostAsync("/api/flows", Json.Body(Flow("tag-star")));

        using var weak = await SendAsync(HttpMethod.Put, "/api/flows/tag-star", "W/" + created.Headers.ETag!.Tag, Flow("tag-star", "Weak: {{in}}"));
        using var star = await SendAsync(HttpMethod.Put, "/api/flows/tag-star", "*", Flow("tag-star", "Star: {{in}}"));
        using var missing = await SendAsync(HttpMethod.Put, "/api/flows/tag-missing", "*", Flow("tag-missing"));

        Assert.Equal(
            (HttpStatusCode.PreconditionFailed, HttpStatusCode.OK, HttpStatusCode.NotFound),
            (weak.StatusCode, star.StatusCode, missing.StatusCode));
    }

    [Theory]
    [InlineData("PUT")]
    [InlineData("DELETE")]
    public async Task IfMatch_NotAListOfTags_Is400_AndChangesNothing(string method)
    {
        using var created = await gateway.Client.PostAsync("/api/flows", Json.Body(Flow($"tag-bad-{method}")));

        using var response = await SendAsync(new HttpMethod(method), $"/api/flows/tag-bad-{method}", "no-quotes", method == "PUT" ? Flow($"tag-bad-{method}", "Bad: {{in}}") : null);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(
            "If-Match must be * or a list of entity tags in quotes, such as the flow's ETag.",
            (await Json.ReadAsync(response))["detail"]!.GetValue<string>());
        using var fetched = await gateway.Client.GetAsync($"/api/flows/tag-bad-{method}");
        Assert.Equal(created.Headers.ETag, fetched.Headers.ETag);
    }

    [Fact]
    public async Task Get_WithIfNoneMatchNamingTheTag_Is304WithoutABody()
    {
        using var created = await gateway.Client.PostAsync("/api/flows", Json.Body(Flow("tag-cache")));
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/flows/tag-cache");
        request.Headers.TryAddWithoutValidation("If-None-Match", created.Headers.ETag!.ToString());

        using var notModified = await gateway.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.NotModified, notModified.StatusCode);
        Assert.Equal(created.Headers.ETag, notModified.Headers.ETag);
        Assert.Empty(await notModified.Content.ReadAsByteArrayAsync());
    }

    private async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, string ifMatch, string? body = null)
    {
        using var request = new HttpRequestMessage(method, path) { Content = body is null ? null : Json.Body(body) };
        request.Headers.TryAddWithoutValidation("If-Match", ifMatch);
        return await gateway.Client.SendAsync(request);
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
