using System.Net;
using Gateway.Hosting;
using Gateway.Runs;
using Gateway.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Gateway.Tests.Storage;

public sealed class SqliteStoreTests
{
    [Fact]
    public async Task ManyConcurrentRuns_AllCompleteWithWholeEventLogs()
    {
        await using var gateway = await GatewayHost.StartAsync(GatewayHost.SimulatedSettings(tokenDelayMs: 1));
        const string body = """
            {"flow":{"id":"busy","nodes":[{"id":"in","type":"input"},
              {"id":"a","type":"llm","model":"lorem","prompt":"in","maxTokens":20},
              {"id":"b","type":"llm","model":"echo","prompt":"in"},
              {"id":"out","type":"output","from":["a","b"]}]},"input":"many runs at once"}
            """;

        var responses = await Task.WhenAll(Enumerable.Range(0, 16).Select(_ => gateway.Client.PostAsync("/api/runs", Json.Body(body))));

        var store = gateway.Services.GetRequiredService<IRunStore>();
        foreach (var response in responses)
        {
            using (response)
            {
                var record = await Json.ReadAsync(response);
                Assert.Equal("completed", record["status"]!.GetValue<string>());
                var events = await store.GetEventsAsync(record["runId"]!.GetValue<string>(), 0, CancellationToken.None);
                Assert.Equal(Enumerable.Range(1, events.Count).Select(i => (long)i), events.Select(e => e.Id));
                Assert.Equal("run.completed", events[^1].Name);
            }
        }

        using var listed = await gateway.Client.GetAsync("/api/runs?flowId=busy&limit=100");
        Assert.Equal(16, (await Json.ReadAsync(listed)).AsArray().Count);
    }

    [Fact]
    public async Task DatabaseInAFolderThatDoesNotExistYet_IsCreated_AndReadyzIsHealthy()
    {
        var folder = Path.Combine(Path.GetTempPath(), $"gateway-test-{Guid.NewGuid():N}", "nested");
        var settings = GatewayHost.SimulatedSettings();
        settings[GatewayHost.StorageKey] = GatewayHost.ConnectionString(Path.Combine(folder, "gateway.db"));
        try
        {
            await using var gateway = await GatewayHost.StartAsync(settings);

            using var ready = await gateway.Client.GetAsync("/readyz");
            Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
            Assert.Equal("Healthy", await ready.Content.ReadAsStringAsync());
            Assert.True(File.Exists(Path.Combine(folder, "gateway.db")));
        }
        finally
        {
            Directory.Delete(Path.GetDirectoryName(folder)!, recursive: true);
        }
    }

    [Fact]
    public async Task ASecondGatewayOnTheSameFile_IsRefused_AndTheFirstRunsOn()
    {
        var database = GatewayHost.NewDatabasePath();
        var settings = GatewayHost.SimulatedSettings(tokenDelayMs: 20);
        settings[GatewayHost.StorageKey] = GatewayHost.ConnectionString(database);
        try
        {
            await using var first = await GatewayHost.StartAsync(settings);
            // Four seconds of tokens: still running when the second gateway has set its store up.
            var runId = await RunClient.StartInBackgroundAsync(first.Client, """
                {"flow":{"nodes":[{"id":"in","type":"input"},{"id":"talk","type":"llm","model":"lorem","prompt":"in","maxTokens":200},
                                  {"id":"out","type":"output","from":["talk"]}]},"input":"x"}
                """);

            // As a rolling deploy would start the next process before the last one has drained.
            var exception = await Assert.ThrowsAsync<StartupRefusedException>(() => GatewayHost.StartAsync(settings));

            Assert.Contains("is in use by another gateway process", exception.Message, StringComparison.Ordinal);
            Assert.Contains("Gateway:Storage:Provider=postgres", exception.Message, StringComparison.Ordinal);
            // Before the lock the second process took every running run for cut off and ended it interrupted.
            using var watch = await RunClient.WatchAsync(first.Client, runId);
            var events = await RunClient.ReadAllAsync(watch);
            Assert.Equal("run.completed", events[^1].Name);
            Assert.Equal(200, events.Count(e => e.Name == "token"));
        }
        finally
        {
            GatewayHost.DeleteDatabase(database);
        }
    }

    [Fact]
    public async Task TheProcess_OnAFileAnotherHolds_ExitsWith1_SayingSoOnce()
    {
        var database = GatewayHost.NewDatabasePath();
        var settings = GatewayHost.SimulatedSettings();
        settings[GatewayHost.StorageKey] = GatewayHost.ConnectionString(database);
        try
        {
            await using var first = await GatewayProcess.StartAsync(settings);

            var exception = await Assert.ThrowsAsync<InvalidOperationException>(() => GatewayProcess.StartAsync(settings));

            Assert.Contains("exited with 1:", exception.Message, StringComparison.Ordinal);
            Assert.Contains("is in use by another gateway process", exception.Message, StringComparison.Ordinal);
            Assert.DoesNotContain("Hosting failed to start", exception.Message, StringComparison.Ordinal);
        }
        finally
        {
            GatewayHost.DeleteDatabase(database);
        }
    }

    [Fact]
    public async Task ReadyzIsUnhealthy_OnceTheDatabaseFileIsGone()
    {
        var folder = Path.Combine(Path.GetTempPath(), $"gateway-test-{Guid.NewGuid():N}");
        var settings = GatewayHost.SimulatedSettings();
        settings[GatewayHost.StorageKey] = GatewayHost.ConnectionString(Path.Combine(folder, "gateway.db"));
        await using var gateway = await GatewayHost.StartAsync(settings);
        using (var before = await gateway.Client.GetAsync("/readyz"))
        {
            Assert.Equal(HttpStatusCode.OK, before.StatusCode);
        }

        // The pooled connections still hold the deleted file open, and writes to it would be lost at the next start.
        Directory.Delete(folder, recursive: true);

        using var after = await gateway.Client.GetAsync("/readyz");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, after.StatusCode);
    }

    [Fact]
    public async Task AConnectionStringThatIsNotOne_StopsStartUpNamingTheKey()
    {
        var settings = GatewayHost.SimulatedSettings();
        settings[GatewayHost.StorageKey] = "gateway.db";

        var exception = await Assert.ThrowsAsync<StartupRefusedException>(() => GatewayHost.StartAsync(settings));

        Assert.StartsWith(
            "Gateway:Storage:ConnectionString is not a valid SQLite connection string (e.g. 'Data Source=gateway.db')",
            exception.Message,
            StringComparison.Ordinal);
    }

    [Fact]
    public async Task UnknownStorageProvider_StopsStartUpNamingTheKey()
    {
        var settings = GatewayHost.SimulatedSettings();
        settings["Gateway:Storage:Provider"] = "mongodb";

        var exception = await Assert.ThrowsAsync<OptionsValidationException>(() => GatewayHost.StartAsync(settings));

        Assert.Contains("Gateway:Storage:Provider must be 'sqlite' or 'postgres'.", exception.Message, StringComparison.Ordinal);
    }
}
