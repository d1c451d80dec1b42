using Gateway.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.Tests.Infrastructure;

/// <summary>The real gateway on real Kestrel, bound to a free loopback port, configured only by the test.</summary>
public sealed class GatewayHost : IAsyncDisposable
{
    public const string StorageKey = "Gateway:Storage:ConnectionString";

    private readonly WebApplication _app;
    private readonly string? _ownDatabase;

    private GatewayHost(WebApplication app, Uri baseAddress, string? ownDatabase)
    {
        _app = app;
        _ownDatabase = ownDatabase;
        BaseAddress = baseAddress;
        Client = new HttpClient { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(30) };
    }

    public Uri BaseAddress { get; }

    public HttpClient Client { get; }

    public IServiceProvider Services => _app.Services;

    /// <summary>
    /// Only the simulated provider, with <c>echo</c> and <c>lorem</c> and no token delay. Tests stop gateways with
    /// streams still open: they end at once, with no shutdown drain to wait for.
    /// </summary>
    public static Dictionary<string, string?> SimulatedSettings(int tokenDelayMs = 0) => new()
    {
        ["Gateway:Streaming:ShutdownDrainSeconds"] = "0",
        ["Gateway:Providers:simulated:Type"] = "simulated",
        ["Gateway:Providers:simulated:TokenDelayMs"] = tokenDelayMs.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["Gateway:Models:echo:Deployments:0:Provider"] = "simulated",
        ["Gateway:Models:echo:Deployments:0:Model"] = "echo",
        ["Gateway:Models:lorem:Deployments:0:Provider"] = "simulated",
        ["Gateway:Models:lorem:Deployments:0:Model"] = "lorem",
    };

    /// <summary>Adds an OpenAI-compatible provider <c>upstream</c> and an alias <c>up</c> served by it.</summary>
    public static Dictionary<string, string?> WithUpstream(Dictionary<string, string?> settings, FakeUpstream upstream, string model = "test-model")
    {
        settings["Gateway:Providers:upstream:Type"] = "openai";
        settings["Gateway:Providers:upstream:BaseUrl"] = upstream.BaseUrl;
        settings["Gateway:Providers:upstream:ApiKey"] = FakeUpstream.ApiKey;
        settings["Gateway:Models:up:Deployments:0:Provider"] = "upstream";
        settings["Gateway:Models:up:Deployments:0:Model"] = model;
        return settings;
    }

    /// <summary>Adds an alias served by one deployment of an already configured provider.</summary>
    public static Dictionary<string, string?> WithAlias(Dictionary<string, string?> settings, string alias, string provider, string model)
    {
        settings[$"Gateway:Models:{alias}:Deployments:0:Provider"] = provider;
        settings[$"Gateway:Models:{alias}:Deployments:0:Model"] = model;
        return settings;
    }

    /// <summary>
    /// Adds an alias served by OpenAI-compatible providers in priority order, one provider per base URL
    /// (named <c>p0</c>, <c>p1</c>, ...), and quick resilience settings for tests.
    /// </summary>
    public static Dictionary<string, string?> WithDeployments(Dictionary<string, string?> settings, string alias, params string[] baseUrls)
    {
        for (var i = 0; i < baseUrls.Length; i++)
        {
            settings[$"Gateway:Providers:p{i}:Type"] = "openai";
            settings[$"Gateway:Providers:p{i}:BaseUrl"] = baseUrls[i];
            settings[$"Gateway:Providers:p{i}:ApiKey"] = FakeUpstream.ApiKey;
            settings[$"Gateway:Models:{alias}:Deployments:{i}:Provider"] = $"p{i}";
            settings[$"Gateway:Models:{alias}:Deployments:{i}:Model"] = $"model-{i}";
        }

        settings.TryAdd("Gateway:Resilience:BaseDelayMs", "10");
        settings.TryAdd("Gateway:Resilience:MaxDelayMs", "1000");
        return settings;
    }

    /// <summary>A SQLite file of its own in the temp folder, for a test that starts several hosts on one database.</summary>
    public static string NewDatabasePath() => Path.Combine(Path.GetTempPath(), $"gateway-test-{Guid.NewGuid():N}.db");

    public static string ConnectionString(string databasePath) => $"Data Source={databasePath}";

    /// <summary>Deletes a database made by <see cref="NewDatabasePath"/>, with its WAL files.</summary>
    public static void DeleteDatabase(string databasePath)
    {
        foreach (var suffix in new[] { "", "-wal", "-shm", ".lock" })
        {
            File.Delete(databasePath + suffix);
        }
    }

    /// <summary>
    /// Starts the gateway. Unless <paramref name="settings"/> name a database, the host gets a fresh one that it
    /// deletes when disposed: hosts never share a store, so one's start-up never touches another's runs. A
    /// <paramref name="settingsFile"/> is read over the settings, and reloaded when saved, as appsettings.json is.
    /// </summary>
    public static async Task<GatewayHost> StartAsync(
        IDictionary<string, string?> settings, Action<IServiceCollection>? configureServices = null, string url = "http://127.0.0.1:0",
        Action<WebApplication>? mapTestEndpoints = null, string? settingsFile = null)
    {
        settings = new Dictionary<string, string?>(settings);
        // Lease renewal is a timer too: an hour keeps it out of the tests that count a fake clock's timers.
        settings.TryAdd("Gateway:Cluster:LeaseSeconds", "3600");
        string? ownDatabase = null;
        if (!settings.ContainsKey(StorageKey))
        {
            ownDatabase = NewDatabasePath();
            settings[StorageKey] = ConnectionString(ownDatabase);
        }

        var builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            EnvironmentName = "Testing",
            ContentRootPath = AppContext.BaseDirectory,
        });
        builder.Configuration.Sources.Clear();
        builder.Configuration.AddInMemoryCollection(settings);
        if (settingsFile is not null)
        {
            builder.Configuration.AddJsonFile(settingsFile, optional: false, reloadOnChange: true);
        }

        builder.WebHost.UseUrls(url);
        builder.AddGateway();
        configureServices?.Invoke(builder.Services);

        var app = builder.Build();
        app.MapGateway();
        mapTestEndpoints?.Invoke(app);
        try
        {
            await app.StartGatewayAsync();
        }
        catch
        {
            await app.DisposeAsync();
            if (ownDatabase is not null)
            {
                DeleteDatabase(ownDatabase);
            }

            throw;
        }

        // Bound to every interface, the gateway is still reached over loopback by the tests.
        var address = new Uri(app.Urls.First().Replace("0.0.0.0", "127.0.0.1", StringComparison.Ordinal));
        return new GatewayHost(app, address, ownDatabase);
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
        if (_ownDatabase is not null)
        {
            DeleteDatabase(_ownDatabase);
        }
    }
}
