using System.Net;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Flows;

/// <summary>The flows in <c>examples/</c> stay valid and run, so the README's commands keep working.</summary>
public sealed class ExampleFlowsTests(SimulatedGateway gateway) : IClassFixture<SimulatedGateway>
{
    public static TheoryData<string> Examples() => [.. Directory.GetFiles(ExamplesFolder(), "*.json").Select(file => Path.GetFileName(file)).Order(StringComparer.Ordinal)];

    [Theory]
    [MemberData(nameof(Examples))]
    public async Task Example_SavesAndRunsToCompletion(string file)
    {
        var flow = await File.ReadAllTextAsync(Path.Combine(ExamplesFolder(), file));
        using var created = await gateway.Client.PostAsync("/api/flows", Json.Body(flow));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var id = (await Json.ReadAsync(created))["id"]!.GetValue<string>();

        var (response, events) = await RunClient.RunAsync(gateway.Client, $"/api/flows/{id}/run", """{"input":"A gateway routes requests.","variables":{"language":"French"}}""");

        using (response)
        {
            Assert.Equal("run.completed", events[^1].Name);
        }
    }

    private static string ExamplesFolder() => Path.Combine(RepositoryRoot.Path, "examples");
}
