using Gateway.Hosting;
using Gateway.Tests.Infrastructure;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace Gateway.Tests.Hosting;

public sealed class StartupValidationTests
{
    [Theory]
    [InlineData("Gateway:Models:echo:Deployments:0:Provider", "nowhere", "Gateway:Models:echo:Deployments:0:Provider names unknown provider 'nowhere'")]
    [InlineData("Gateway:Models:echo:Deployments:0:Model", "gpt-9", "Gateway:Models:echo:Deployments:0:Model must be one of the simulated models")]
    [InlineData("Gateway:Providers:simulated:Type", "carrier-pigeon", "Gateway:Providers:simulated:Type must be")]
    [InlineData("Gateway:Providers:remote:BaseUrl", "not a url", "Gateway:Providers:remote:BaseUrl must be an absolute http or https URL")]
    [InlineData("Gateway:Providers:remote:MaxTokensField", "max_length", "Gateway:Providers:remote:MaxTokensField must be 'max_completion_tokens' or 'max_tokens'.")]
    // Served, until 2026-12-06, under a name no caller could send: "" is a missing model, "x " is sent as "x".
    [InlineData("Gateway:Models: :Deployments:0:Provider", "simulated", "Gateway:Models:  is not a usable alias")]
    [InlineData("Gateway:Models:padded :Deployments:0:Provider", "simulated", "Gateway:Models:padded  is not a usable alias: an alias may not be empty or begin or end with spaces (got 'padded ').")]
    public async Task BadConfiguration_StopsStartUpNamingTheKey(string key, string value, string expectedMessage)
    {
        var settings = GatewayHost.SimulatedSettings();
        settings["Gateway:Providers:remote:Type"] = "openai";
        settings["Gateway:Providers:remote:BaseUrl"] = "http://127.0.0.1:9/v1";
        settings[key] = value;

        var exception = await Assert.ThrowsAsync<OptionsValidationException>(() => GatewayHost.StartAsync(settings));

        Assert.Contains(expectedMessage, exception.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Gateway:Providers:remote:BaseUrl", "ftp://user:sk-secret-1234@llm.internal/v1", "(got 'ftp://***@llm.internal/v1')")]
    [InlineData("Gateway:Telemetry:OtlpEndpoint", "grpc://collector:4317/?api-key=sk-secret-1234", "(got 'grpc://collector:4317/***')")]
    [InlineData("Gateway:Providers:remote:BaseUrl", "ftp://user:pa/ss-secret-1234@llm.internal/v1#key=secret-1234", "(got 'ftp://***@llm.internal/v1***')")]
    // An Azure OpenAI key's shape: 32 hex digits, under the 40 characters shown.
    [InlineData("Gateway:Providers:remote:Type", "0123456789abcdef0secret-1234cdef", "(got a value of 32 characters, not shown)")]
    [InlineData("Gateway:Providers:remote:Type", "sk-proj-secret-1234-abcdefghijklmnopqrstuvwxyz0123", "(got a value of 50 characters, not shown)")]
    public async Task AStartUpError_QuotesABadValue_ButNeverTheSecretInIt(string key, string value, string expected)
    {
        var settings = GatewayHost.SimulatedSettings();
        settings["Gateway:Providers:remote:Type"] = "openai";
        settings["Gateway:Providers:remote:BaseUrl"] = "http://127.0.0.1:9/v1";
        settings[key] = value;

        var exception = await Assert.ThrowsAsync<OptionsValidationException>(() => GatewayHost.StartAsync(settings));

        Assert.Contains(expected, exception.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("secret-1234", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ASimulatedDeploymentWithoutAModel_IsOneProblem_SaidOnce()
    {
        var settings = GatewayHost.SimulatedSettings();
        settings["Gateway:Models:echo:Deployments:0:Model"] = "";

        var exception = await Assert.ThrowsAsync<OptionsValidationException>(() => GatewayHost.StartAsync(settings));

        // Until 2026-12-06 also "must be one of the simulated models; got ''".
        Assert.Equal(["Gateway:Models:echo:Deployments:0:Model is required."], exception.Failures);
    }

    [Fact]
    public async Task AliasWithoutDeployments_StopsStartUp()
    {
        var settings = GatewayHost.SimulatedSettings();
        settings["Gateway:Models:empty:Description"] = "no deployments here";

        var exception = await Assert.ThrowsAsync<OptionsValidationException>(() => GatewayHost.StartAsync(settings));

        Assert.Contains("Gateway:Models:empty:Deployments must list at least one deployment", exception.Message, StringComparison.Ordinal);
    }

    /// <summary>
    /// A store it may not write (here a file opened read-only; for an operator, most often a folder the gateway may not
    /// write, its file writable): the refusal says that the folder counts too (until 2026-12-07 SQLite's words alone).
    /// </summary>
    [Fact]
    public async Task AStoreItMayNotWrite_StopsStartUp_SayingTheFolderMustBeWritableToo()
    {
        var path = GatewayHost.NewDatabasePath();
        try
        {
            await using (var create = new Microsoft.Data.Sqlite.SqliteConnection($"{GatewayHost.ConnectionString(path)};Pooling=False"))
            {
                await create.OpenAsync();
            }

            var settings = GatewayHost.SimulatedSettings();
            settings[GatewayHost.StorageKey] = $"Data Source={path};Mode=ReadOnly";

            var exception = await Assert.ThrowsAsync<StartupRefusedException>(() => GatewayHost.StartAsync(settings));

            Assert.EndsWith(
                "SQLite Error 8: 'attempt to write a readonly database'. The file and its folder must both be writable by the gateway: SQLite keeps its write-ahead log (-wal, -shm) beside the file.",
                exception.Message, StringComparison.Ordinal);
        }
        finally
        {
            GatewayHost.DeleteDatabase(path);
        }
    }

    /// <summary>A binary copied without its settings file: until 2026-12-07 the file went unnamed.</summary>
    [Fact]
    public async Task NoModels_WithoutASettingsFile_SaysWhereItWasLookedFor()
    {
        var folder = Directory.CreateTempSubdirectory("gateway-no-settings-").FullName;
        try
        {
            var builder = Microsoft.AspNetCore.Builder.WebApplication.CreateBuilder(
                new Microsoft.AspNetCore.Builder.WebApplicationOptions { EnvironmentName = "Testing", ContentRootPath = folder });
            builder.Configuration.Sources.Clear();
            builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { [GatewayHost.StorageKey] = $"Data Source={folder}/g.db" });
            builder.AddGateway();
            await using var app = builder.Build();

            var exception = await Assert.ThrowsAsync<OptionsValidationException>(() => app.StartGatewayAsync());

            Assert.Contains(
                $"Gateway:Models must define at least one model alias (there is no {Path.Combine(folder, "appsettings.json")}, where the gateway reads its settings).",
                exception.Failures);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public async Task NoModels_StopsStartUp()
    {
        var exception = await Assert.ThrowsAsync<OptionsValidationException>(() => GatewayHost.StartAsync(new Dictionary<string, string?>()));

        Assert.Contains("Gateway:Models", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheProcess_OnAPortAnotherProcessHolds_ExitsWith1_SayingSo()
    {
        using var holder = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        holder.Start();
        var settings = GatewayHost.SimulatedSettings();
        settings["Urls"] = $"http://127.0.0.1:{((System.Net.IPEndPoint)holder.LocalEndpoint).Port}";

        var exception = await Assert.ThrowsAsync<InvalidOperationException>(() => GatewayProcess.StartAsync(settings));

        // Until 2026-12-05: an unhandled exception, exit code 134, and the same stack trace twice.
        Assert.Contains("exited with 1:", exception.Message, StringComparison.Ordinal);
        Assert.Contains("Failed to bind to address", exception.Message, StringComparison.Ordinal);
        Assert.Contains("Is another process listening there?", exception.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("..", exception.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("bin", true)]
    [InlineData("published", false)]
    public void AnAppSettingsFileThatIsNotJson_IsDescribed_WithWhereInIt_AndTheRootFileUnderDotnetRun(string folder, bool copiedAtBuild)
    {
        var directory = Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), $"gateway-test-{Guid.NewGuid():N}", folder));
        try
        {
            File.WriteAllText(Path.Combine(directory.FullName, "appsettings.json"), "{\n  \"Gateway\": {\n    \"Models\": ,\n  }\n}\n");
            // What the host's own loading of a broken file throws.
            var exception = Assert.Throws<InvalidDataException>(() =>
                new ConfigurationBuilder().AddJsonFile(Path.Combine(directory.FullName, "appsettings.json")).Build());

            var reasons = StartupFailure.Describe(exception);

            Assert.NotNull(reasons);
            Assert.Contains("Could not parse the JSON file.", reasons, StringComparison.Ordinal);
            // Where: until 2026-12-06 the message stopped at "Could not parse the JSON file."
            Assert.Contains("LineNumber: 2", reasons, StringComparison.Ordinal);
            Assert.Equal(copiedAtBuild, reasons.Contains("appsettings.json at the repository root", StringComparison.Ordinal));
        }
        finally
        {
            Directory.Delete(directory.Parent!.FullName, recursive: true);
        }
    }

    [Theory]
    [InlineData("127.0.0.1:8080", "'127.0.0.1:8080' is not a URL: it needs a scheme, a host and a port")]
    [InlineData("http://127.0.0.1:99999", "'http://127.0.0.1:99999' has the port 99999; a port is between 0 and 65535")]
    [InlineData("http://127.0.0.1:8080; http://[::1]:8080", "' http://[::1]:8080' has spaces around it")]
    // Kestrel reads this as the host "127.0.0.1:abc" and listens on every interface, on port 80.
    [InlineData("http://127.0.0.1:abc", "'http://127.0.0.1:abc' has a port that is not a number")]
    [InlineData("http://[::1]:abc", "'http://[::1]:abc' has a port that is not a number")]
    [InlineData("http://[zz]:8080", "'http://[zz]:8080' has a bracketed host that is not an IPv6 address")]
    [InlineData("ftp://unix:/tmp/gateway.sock", "'ftp://unix:/tmp/gateway.sock' has the scheme 'ftp'")]
    [InlineData("http://unix:gateway.sock", "'http://unix:gateway.sock' names a Unix socket by a relative path")]
    [InlineData("http://127.0.0.1:8080/base", "'http://127.0.0.1:8080/base' has a path ('/base')")]
    public async Task TheProcess_WithAnAddressItCannotListenOn_ExitsWith1_SayingWhichAndWhy(string urls, string expected)
    {
        var settings = GatewayHost.SimulatedSettings().WithStandardKeys();
        settings["Urls"] = urls;

        var exception = await Assert.ThrowsAsync<InvalidOperationException>(() => GatewayProcess.StartAsync(settings));

        // Until 2026-12-06: an unhandled exception, exit code 134 (or, for the last, a gateway on every interface).
        Assert.Contains("exited with 1:", exception.Message, StringComparison.Ordinal);
        Assert.Contains(expected, exception.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("Unhandled exception", exception.Message, StringComparison.Ordinal);
    }

    [Theory]
    // Kestrel reads a scheme in any case; an IPv6 loopback keeps its brackets.
    [InlineData("HTTP://127.0.0.1:0")]
    [InlineData("http://[::1]:0")]
    public async Task AnAddressKestrelReads_IsNotRefused(string url)
    {
        await using var gateway = await GatewayHost.StartAsync(GatewayHost.SimulatedSettings(), url: url);

        Assert.Equal(System.Net.HttpStatusCode.OK, (await gateway.Client.GetAsync("/healthz")).StatusCode);
    }

    /// <summary>
    /// A container started with <c>-e ASPNETCORE_URLS=...</c>: ASP.NET Core reads it under the settings file's <c>Urls</c>
    /// (here the environment's, as a test's process gets its port), and until 2026-12-07 the gateway listened elsewhere
    /// without a word.
    /// </summary>
    [Fact]
    public async Task TheProcess_WithAspNetCoreUrlsItDoesNotUse_SaysSo_NamingWhatItListensOn()
    {
        var settings = GatewayHost.SimulatedSettings();
        settings["ASPNETCORE_URLS"] = "http://127.0.0.1:9";

        await using var gateway = await GatewayProcess.StartAsync(settings);

        await ReplicaPair.WaitUntilAsync(() => gateway.Output.Contains("ASPNETCORE_URLS (http://127.0.0.1:9) is not used", StringComparison.Ordinal));
        Assert.Contains(
            $"ASPNETCORE_URLS (http://127.0.0.1:9) is not used: the gateway listens on {gateway.BaseAddress.GetLeftPart(UriPartial.Authority)}, from Urls",
            gateway.Output, StringComparison.Ordinal);
        Assert.Equal(System.Net.HttpStatusCode.OK, (await gateway.Client.GetAsync("/healthz")).StatusCode);
    }

    /// <summary>The same addresses written otherwise (a trailing slash, another order, capitals), or Kestrel's own endpoints in charge: nothing to say.</summary>
    [Theory]
    [InlineData("http://127.0.0.1:8080/", "http://127.0.0.1:8080", null, false)]
    [InlineData("HTTP://127.0.0.1:8080;http://[::1]:8080", "http://[::1]:8080;http://127.0.0.1:8080", null, false)]
    [InlineData("http://+:9000", "http://*:9000", null, false)]
    [InlineData("http://127.0.0.1:9000", "http://127.0.0.1:8080", "http://127.0.0.1:7000", false)]
    [InlineData("http://127.0.0.1:9000", "http://127.0.0.1:8080", null, true)]
    public void AspNetCoreUrls_IsSaidUnused_OnlyWhenItNamesOtherAddresses(string asked, string urls, string? kestrelEndpoint, bool said)
    {
        var settings = new Dictionary<string, string?> { ["urls"] = urls };
        if (kestrelEndpoint is not null)
        {
            settings["Kestrel:Endpoints:Http:Url"] = kestrelEndpoint;
        }

        var logs = new CapturedLogs();
        ListenAddresses.SayIfEnvironmentUrlsUnused(asked, new ConfigurationBuilder().AddInMemoryCollection(settings).Build(), logs.CreateLogger("test"));

        Assert.Equal(said, logs.Lines.Any(line => line.Message.StartsWith($"ASPNETCORE_URLS ({asked}) is not used", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task TheProcess_WithALogLevelThatIsNone_ExitsWith1_ListingTheLevels()
    {
        var settings = GatewayHost.SimulatedSettings().WithStandardKeys();
        settings["Logging:LogLevel:Default"] = "Verbose";

        var exception = await Assert.ThrowsAsync<InvalidOperationException>(() => GatewayProcess.StartAsync(settings));

        Assert.Contains("exited with 1:", exception.Message, StringComparison.Ordinal);
        Assert.Contains("A Logging:LogLevel value must be Trace, Debug, Information, Warning, Error, Critical or None.", exception.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("Unhandled exception", exception.Message, StringComparison.Ordinal);
    }

    [Theory]
    // The range was checked as whole numbers: -0.4 passed as 0, and past int's range the check itself threw.
    [InlineData("Gateway:Streaming:ShutdownDrainSeconds", "-0.4", "Gateway:Streaming:ShutdownDrainSeconds must be between 0 and 3600.")]
    [InlineData("Gateway:Streaming:DisconnectGraceSeconds", "3600.4", "Gateway:Streaming:DisconnectGraceSeconds must be between 0 and 3600.")]
    [InlineData("Gateway:Streaming:EventRetentionMinutes", "3000000000", "Gateway:Streaming:EventRetentionMinutes must be between 0 and 10080.")]
    [InlineData("Gateway:Streaming:EventRetentionMegabytes", "1e309", "Gateway:Streaming:EventRetentionMegabytes must be between 0 and 65536.")]
    [InlineData("Gateway:Storage:RunRetentionDays", "-0.5", "Gateway:Storage:RunRetentionDays must be between 0 and 36500.")]
    public async Task ASettingOutOfItsRange_ByAFraction_OrFarOut_StopsStartUpNamingIt(string key, string value, string expected)
    {
        var settings = GatewayHost.SimulatedSettings();
        settings[key] = value;

        var exception = await Assert.ThrowsAsync<OptionsValidationException>(() => GatewayHost.StartAsync(settings));

        // As the process says it: the key, not the C# type ("The field StreamingOptions.ShutdownDrainSeconds ...").
        var reasons = StartupFailure.Describe(exception);
        Assert.Equal("  " + expected, reasons);
    }

    [Theory]
    [InlineData("Gateway:Streaming:HeartbeatSeconds", "0", "Gateway:Streaming:HeartbeatSeconds")]
    [InlineData("Gateway:Auth:Keys:0:RequestPerMinute", "60", "Gateway:Auth:Keys:0:RequestPerMinute is not a setting the gateway knows")]
    [InlineData("Gateway:Resilience:MaxRetries", "-1", "Gateway:Resilience:MaxRetries must be between 0 and 10.")]
    [InlineData("Gateway:Providers:simulated:Resilience:MaxRetries", "twice", "Gateway:Providers:simulated:Resilience:MaxRetries must be")]
    [InlineData("Gateway:Streaming:EventRetentionMinutes", "an hour", "Gateway:Streaming:EventRetentionMinutes must be a number.")]
    [InlineData("Gateway:Providers:simulated:TokenDelayMs", "fast", "Gateway:Providers:simulated:TokenDelayMs must be a whole number.")]
    public async Task TheProcess_WithBadConfiguration_ExitsWith1_SayingWhatToFix_NotAnUnhandledException(string key, string value, string expected)
    {
        var settings = GatewayHost.SimulatedSettings().WithStandardKeys();
        settings[key] = value;

        var exception = await Assert.ThrowsAsync<InvalidOperationException>(() => GatewayProcess.StartAsync(settings));

        Assert.Contains("exited with 1:", exception.Message, StringComparison.Ordinal);
        Assert.Contains("The gateway did not start:", exception.Message, StringComparison.Ordinal);
        Assert.Contains(expected, exception.Message, StringComparison.Ordinal);
        // The one key to fix, not also the models of a provider whose entry the bad value kept from binding.
        Assert.DoesNotContain("unknown provider", exception.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("Unhandled exception", exception.Message, StringComparison.Ordinal);
        // Said once, by the gateway: not also logged by the host with a stack trace.
        Assert.DoesNotContain("Hosting failed to start", exception.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", exception.Message, StringComparison.Ordinal);
        // Nor is the value quoted (it may be a secret), as the configuration binder's own refusal would.
        Assert.DoesNotContain($"'{value}'", exception.Message, StringComparison.Ordinal);
    }
}
