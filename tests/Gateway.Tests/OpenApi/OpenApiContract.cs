using System.Text.Json.Nodes;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.OpenApi;

/// <summary>
/// The served OpenAPI document read as a generated client reads it: what an operation declares for each status,
/// and whether a real response of the gateway is one of those (status, content type, body, headers).
/// </summary>
public sealed class OpenApiContract
{
    /// <summary>The headers the gateway itself sets on some answers: each must be declared exactly where it is sent.</summary>
    private static readonly string[] OwnHeaders = ["X-Run-Id", "Location"];

    private OpenApiContract(JsonNode document)
    {
        Document = document;
        Schemas = new SchemaValidator(document);
    }

    public JsonNode Document { get; }

    public SchemaValidator Schemas { get; }

    public static async Task<OpenApiContract> FetchAsync(HttpClient client) =>
        new(JsonNode.Parse(await client.GetStringAsync("/swagger/v1/swagger.json"))!);

    public JsonNode Operation(string operationId) =>
        Document["paths"]!.AsObject()
            .SelectMany(path => path.Value!.AsObject().Select(method => method.Value!))
            .Single(operation => operation["operationId"]!.GetValue<string>() == operationId);

    public JsonNode Response(string operationId, int status) =>
        Operation(operationId)["responses"]![status.ToString(System.Globalization.CultureInfo.InvariantCulture)]
        ?? throw new Xunit.Sdk.XunitException($"{operationId} does not declare the status {status}.");

    public JsonNode RequestSchema(string operationId) =>
        Operation(operationId)["requestBody"]!["content"]!["application/json"]!["schema"]!;

    /// <summary>Asserts that <paramref name="response"/> is one the operation declares, and returns its JSON body (null when empty).</summary>
    public async Task<JsonNode?> AssertConformsAsync(string operationId, HttpResponseMessage response)
    {
        var declared = AssertDeclared(operationId, response);
        var where = $"{operationId} {(int)response.StatusCode}";
        var text = await response.Content.ReadAsStringAsync();
        if (text.Length == 0)
        {
            Assert.Null(declared["content"]);
            return null;
        }

        var body = JsonNode.Parse(text);
        AssertConforms(body, declared["content"]![response.Content.Headers.ContentType!.MediaType!]!["schema"]!, where);
        return body;
    }

    /// <summary>Asserts that the response's status is declared, with exactly the gateway's own headers it carries; returns the declaration.</summary>
    public JsonNode AssertDeclared(string operationId, HttpResponseMessage response)
    {
        var declared = Response(operationId, (int)response.StatusCode);
        foreach (var header in OwnHeaders)
        {
            var sent = response.Headers.NonValidated.Contains(header);
            Assert.True(
                sent == (declared["headers"]?[header] is not null),
                $"{operationId} {(int)response.StatusCode}: {header} is {(sent ? "sent but not declared" : "declared but not sent")}");
        }

        if (response.Content.Headers.ContentType?.MediaType is { } mediaType)
        {
            Assert.True(declared["content"]?[mediaType] is not null, $"{operationId} {(int)response.StatusCode}: {mediaType} is not declared");
        }

        return declared;
    }

    /// <summary>Asserts that each event's data is what the operation's <c>x-sse-events</c> declares for its name.</summary>
    public void AssertEventsConform(string operationId, IEnumerable<RunEventItem> events)
    {
        var declared = Operation(operationId)["x-sse-events"]!.AsArray();
        foreach (var item in events)
        {
            var schemaName = declared.Single(e => e!["event"]!.GetValue<string>() == item.Name)!["schema"]!.GetValue<string>();
            AssertConforms(item.Data, Document["components"]!["schemas"]![schemaName]!, $"{operationId} event {item.Id} {item.Name}");
        }
    }

    public void AssertConforms(JsonNode? value, JsonNode schema, string what)
    {
        var errors = Schemas.Validate(value, schema);
        Assert.True(errors.Count == 0, $"{what} does not conform to the document:\n{string.Join('\n', errors)}\n{value?.ToJsonString()}");
    }
}
