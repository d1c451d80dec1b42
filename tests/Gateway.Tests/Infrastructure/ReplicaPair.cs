using System.Globalization;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;

namespace Gateway.Tests.Infrastructure;

/// <summary>
/// Two gateway processes, replicas "a" and "b", on a fresh database of the test PostgreSQL, with a fake upstream
/// behind the alias <c>up</c> and the standard test keys (clients send <see cref="TestKeys.Client"/>). Leases and
/// the disconnect grace are short so that tests are quick; a test class may change any setting.
/// </summary>
public sealed class ReplicaPair : IAsyncDisposable
{
    public const double LeaseSeconds = 2;
    public const string LimitedKey = "gw-test-replica-limited-3e77";
    public const int LimitedRequestsPerMinute = 6;

    /// <summary>Input → one llm node on <c>up</c> → output: the run streams whatever the upstream is scripted to.</summary>
    public const string RelayFlow = """
        {"flow":{"id":"relay","nodes":[{"id":"in","type":"input"},{"id":"talk","type":"llm","model":"up","prompt":"in"},
          {"id":"out","type":"output","from":["talk"]}]},"input":"anything"}
        """;

    private ReplicaPair(FakeUpstream upstream, GatewayProcess a, GatewayProcess b, string connectionString)
    {
        Upstream = upstream;
        A = a;
        B = b;
        ConnectionString = connectionString;
    }

    /// <summary>The database both replicas use, for a test that reaches into it.</summary>
    public string ConnectionString { get; }

    public FakeUpstream Upstream { get; }

    public GatewayProcess A { get; }

    public GatewayProcess B { get; }

    public static async Task<ReplicaPair> StartAsync(Action<Dictionary<string, string?>>? configure = null)
    {
        var upstream = await FakeUpstream.StartAsync();
        var settings = await SettingsAsync(upstream);
        configure?.Invoke(settings);
        var replicas = await Task.WhenAll(StartReplicaAsync(settings, "a"), StartReplicaAsync(settings, "b"));
        return new ReplicaPair(upstream, replicas[0], replicas[1], settings["Gateway:Storage:ConnectionString"]!);
    }

    /// <summary>What replicas share: the database, the upstream, the keys; short leases and grace.</summary>
    public static async Task<Dictionary<string, string?>> SettingsAsync(FakeUpstream upstream)
    {
        var settings = GatewayHost.WithUpstream(GatewayHost.SimulatedSettings(), upstream).WithStandardKeys();
        settings.WithKey(9, "replica-limited", LimitedKey, requestsPerMinute: LimitedRequestsPerMinute);
        settings["Gateway:Storage:Provider"] = "postgres";
        settings["Gateway:Storage:ConnectionString"] = await PostgresServer.CreateDatabaseAsync();
        settings["Gateway:Cluster:LeaseSeconds"] = LeaseSeconds.ToString(CultureInfo.InvariantCulture);
        settings["Gateway:Cluster:PollMilliseconds"] = "500";
        settings["Gateway:Streaming:DisconnectGraceSeconds"] = "1";
        settings["Logging:LogLevel:Default"] = "Warning";
        return settings;
    }

    public static async Task<GatewayProcess> StartReplicaAsync(Dictionary<string, string?> settings, string replicaId)
    {
        var replica = await GatewayProcess.StartAsync(new Dictionary<string, string?>(settings) { ["Gateway:Cluster:ReplicaId"] = replicaId });
        replica.Client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", TestKeys.Client);
        return replica;
    }

    public static async Task<JsonNode> RecordAsync(GatewayProcess replica, string runId)
    {
        using var response = await replica.Client.GetAsync($"/api/runs/{runId}");
        response.EnsureSuccessStatusCode();
        return JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
    }

    public static async Task<string> StatusAsync(GatewayProcess replica, string runId) =>
        (await RecordAsync(replica, runId))["status"]!.GetValue<string>();

    public static Task WaitUntilAsync(Func<bool> condition) => WaitUntilAsync(() => Task.FromResult(condition()));

    public static async Task WaitUntilAsync(Func<Task<bool>> condition)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (!await condition())
        {
            await Task.Delay(10, timeout.Token);
        }
    }

    /// <summary>The ids 1, 2, 3, ... of a whole log: no gap, no duplicate.</summary>
    public static IEnumerable<long> Ids(int count) => Enumerable.Range(1, count).Select(id => (long)id);

    public async ValueTask DisposeAsync()
    {
        await A.DisposeAsync();
        await B.DisposeAsync();
        await Upstream.DisposeAsync();
    }
}
