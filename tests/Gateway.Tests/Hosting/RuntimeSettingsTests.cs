using System.Text.Json.Nodes;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Hosting;

/// <summary>
/// The runtime settings the benchmarks chose (docs/BENCHMARKS.md) reach the runtime config the built gateway runs with.
/// In-process tests run under the test host's own config, so nothing else would notice one dropped from the project.
/// </summary>
public sealed class RuntimeSettingsTests
{
    [Theory]
    [InlineData("System.GC.Server", "false")] // Workstation GC: memory for thousands of held streams
    [InlineData("System.GC.Gen0MaxBudget", "33554432")] // gen0 not sized from a host's huge L3
    [InlineData("System.Runtime.TieredPGO", "true")] // the first token at concurrency 1 ~0.13 ms sooner on the Intel machine
    [InlineData("System.Runtime.TieredCompilation.CallCountingDelayMs", "0")] // no recompile waves in the p99
    public void TheBuiltRuntimeConfig_CarriesTheMeasuredSetting(string name, string value)
    {
        var config = JsonNode.Parse(File.ReadAllText(GatewayProcess.BuiltFile("Gateway.runtimeconfig.json")))!;

        var properties = config["runtimeOptions"]!["configProperties"]!.AsObject();

        Assert.True(properties.ContainsKey(name), $"{name} is missing from the runtime config: {properties.ToJsonString()}");
        Assert.Equal(value, properties[name]!.ToJsonString());
    }
}
