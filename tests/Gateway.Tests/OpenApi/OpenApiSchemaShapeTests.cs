using System.Reflection;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.OpenApi;

/// <summary>The served document says precisely what the endpoints and the wire types do, where a live call cannot show it.</summary>
public sealed class OpenApiSchemaShapeTests : IAsyncLifetime
{
    private GatewayHost _gateway = null!;
    private OpenApiContract _contract = null!;

    private JsonObject Schemas => _contract.Document["components"]!["schemas"]!.AsObject();

    public async Task InitializeAsync()
    {
        _gateway = await GatewayHost.StartAsync(GatewayHost.SimulatedSettings());
        _contract = await OpenApiContract.FetchAsync(_gateway.Client);
    }

    public async Task DisposeAsync() => await _gateway.DisposeAsync();

    /// <summary>
    /// Compares every property of every component with the C# property it describes: nullable in the document exactly
    /// when its type is (a free-form one admits any value), except the request members the document requires non-null
    /// (<c>WireSchemaFilter.RequiredNonNull</c>): a request's <c>model</c> is nullable in C# so that the validator names
    /// it missing, and a <c>null</c> is refused as a missing one is.
    /// A bare $ref cannot say nullable in OAS 3.0, nor can nullable without a type: a nullable one is oneOf the $ref and a null alone.
    /// </summary>
    [Fact]
    public void EveryProperty_IsNullableInTheDocument_ExactlyWhenItsTypeIs()
    {
        var nullability = new NullabilityInfoContext();
        var types = typeof(Gateway.Runs.RunRecord).Assembly.GetTypes().ToLookup(type => type.Name);
        var compared = new List<string>();
        foreach (var (name, schema) in Schemas)
        {
            if (types[name].ToList() is not [var type])
            {
                continue;
            }

            var required = Gateway.OpenApi.WireSchemaFilter.RequiredNonNull.TryGetValue(type, out var names) ? names : [];
            foreach (var (propertyName, property) in schema!["properties"]?.AsObject() ?? [])
            {
                // Declared for generated clients (PassedOnSchemas), read from the request's extension data: no member.
                if (property is null || SchemaValidator.IsFreeForm(property)
                    || (type == typeof(Gateway.Chat.ChatCompletionRequest) && Gateway.Chat.PassedOnParameters.Names.Contains(propertyName)))
                {
                    continue;
                }

                var member = type.GetProperties().Single(p => (p.GetCustomAttribute<JsonPropertyNameAttribute>()?.Name ?? p.Name) == propertyName);
                var mayBeNull = nullability.Create(member).ReadState == NullabilityState.Nullable && !required.Contains(propertyName);
                var where = $"{name}.{propertyName}";
                Assert.True(mayBeNull == MayBeNull(property), $"{where}: nullable in C# is {mayBeNull}, not so in the document");
                Assert.True(property["nullable"] is null || property["type"] is not null, $"{where}: since OAS 3.0.3, nullable without a type means nothing");
                Assert.True(property["$ref"] is null || property.AsObject().Count == 1, $"{where}: beside a $ref, OAS 3.0 ignores {property.ToJsonString()}");
                compared.Add(where);
            }
        }

        Assert.Contains("RunRecord.error", compared);
        Assert.Contains("NodeRecord.usage", compared);
        Assert.Contains("NodeCompletedEvent.usage", compared);
        Assert.Contains("NodeFailedEvent.error", compared);
        // Until 2026-12-06 (later): nullable, so generated clients typed them `string | null`; a null is a 400.
        Assert.Contains("ChatCompletionRequest.model", compared);
        Assert.Contains("ChatRequestMessage.role", compared);
        Assert.Equal("#/components/schemas/RunError", Schemas["RunRecord"]!["properties"]!["error"]!["oneOf"]![0]!["$ref"]!.GetValue<string>());
    }

    /// <summary>
    /// Whether a property's schema admits null as OAS 3.0.3 reads it: <c>nullable</c> beside its <c>type</c>, or one of
    /// its <c>oneOf</c> a null alone (a $ref, or alternatives, cannot carry nullable themselves).
    /// </summary>
    private static bool MayBeNull(JsonNode property) =>
        (property["nullable"]?.GetValue<bool>() == true && property["type"] is not null)
        || (property["oneOf"] is JsonArray options && options.Any(option => option!["nullable"]?.GetValue<bool>() == true && option["enum"] is JsonArray { Count: 1 } values && values[0] is null));

    /// <summary>Every parameter the gateway sends on as written is declared, may be null, and has a type, so generated clients type it.</summary>
    [Fact]
    public void ThePassedOnParameters_AreDeclaredOnTheChatRequest()
    {
        var properties = Schemas["ChatCompletionRequest"]!["properties"]!.AsObject();

        Assert.All(Gateway.Chat.PassedOnParameters.Names, name =>
        {
            Assert.True(properties.ContainsKey(name), name);
            Assert.True(MayBeNull(properties[name]!), name);
            Assert.True(properties[name]!["type"] is not null || properties[name]!["oneOf"] is not null, name);
        });
    }

    /// <summary>A user message's image parts are declared, so a generated client can send them (taken since 2026-12-07).</summary>
    [Theory]
    [InlineData("""[{"type":"text","text":"What is it?"},{"type":"image_url","image_url":{"url":"https://example.com/a.png","detail":"low"}}]""", true)]
    [InlineData("""[{"type":"image_url","image_url":{"url":"data:image/png;base64,iVBORw0KGgo="}}]""", true)]
    [InlineData("""[{"type":"image_url","image_url":{"url":"https://example.com/a.png","detail":"medium"}}]""", false)]
    [InlineData("""[{"type":"image_url","image_url":{"url":""}}]""", false)]
    [InlineData("""[{"type":"image_url","image_url":{}}]""", false)]
    [InlineData("""[{"type":"input_audio","input_audio":{"data":"AAAA","format":"wav"}}]""", false)]
    public void TheChatRequest_DeclaresImageParts(string content, bool declared)
    {
        var request = JsonNode.Parse($$"""{"model":"up","messages":[{"role":"user","content":{{content}}}]}""");

        var problems = _contract.Schemas.Validate(request, _contract.RequestSchema("CreateChatCompletion"));

        Assert.True(declared == (problems.Count == 0), string.Join("; ", problems));
    }

    /// <summary>Until 2026-12-06 (later) a status was any string to a generated client, which could not switch on it.</summary>
    [Theory]
    [InlineData("RunRecord", "running completed failed cancelled interrupted")]
    [InlineData("NodeRecord", "pending running completed failed skipped cancelled")]
    public void Statuses_AreListed(string schema, string statuses)
    {
        var listed = Schemas[schema]!["properties"]!["status"]!["enum"]!.AsArray().Select(item => item!.GetValue<string>());
        Assert.Equal(statuses.Split(' '), listed);
    }

    [Fact]
    public void TheCatalogsJsonSchemas_AreFreeFormObjects_NotDotNetsDomTypes()
    {
        foreach (var owner in new[] { "ComponentInfo", "ParameterInfo" })
        {
            var schema = Schemas[owner]!["properties"]!["schema"]!;
            Assert.Equal("object", schema["type"]!.GetValue<string>());
            Assert.True(JsonNode.DeepEquals(new JsonObject(), schema["additionalProperties"]), $"{owner}.schema: {schema.ToJsonString()}");
        }

        Assert.DoesNotContain(Schemas, schema => schema.Key.StartsWith("Json", StringComparison.Ordinal));
    }

    [Fact]
    public void RunningASavedFlow_TakesNoFlow_AndRunningAnInlineOne_RequiresIt()
    {
        var saved = _contract.Schemas.Resolve(_contract.RequestSchema("RunFlow")["$ref"]!.GetValue<string>());
        var inline = _contract.Schemas.Resolve(_contract.RequestSchema("RunInlineFlow")["$ref"]!.GetValue<string>());

        Assert.Null(saved["properties"]!["flow"]);
        Assert.False(saved["additionalProperties"]!.GetValue<bool>());
        Assert.NotNull(inline["properties"]!["flow"]);
        Assert.Contains("flow", inline["required"]!.AsArray().Select(n => n!.GetValue<string>()));
    }

    [Fact]
    public void ListRunsLimit_IsAnIntegerFrom1To100_DescribedForTheCaller()
    {
        var limit = _contract.Operation("ListRuns")["parameters"]!.AsArray().Single(p => p!["name"]!.GetValue<string>() == "limit")!;

        Assert.True(
            JsonNode.DeepEquals(JsonNode.Parse("""{"type":"integer","format":"int32","minimum":1,"maximum":100}"""), limit["schema"]),
            limit["schema"]!.ToJsonString());
        Assert.Equal("How many runs to return, from 1 to 100; 20 when not given (or empty).", limit["description"]!.GetValue<string>());
    }

    /// <summary>The JSON mode's 503 cannot be caused from outside: the gateway must stop before it can store the run's end.</summary>
    [Theory]
    [InlineData("RunFlow")]
    [InlineData("RunInlineFlow")]
    public void StartingARun_Declares503_WithTheRunId(string operationId)
    {
        var unavailable = _contract.Response(operationId, 503);

        Assert.Equal("#/components/schemas/ProblemDetails", unavailable["content"]!["application/problem+json"]!["schema"]!["$ref"]!.GetValue<string>());
        Assert.NotNull(unavailable["headers"]!["X-Run-Id"]);
    }
}
