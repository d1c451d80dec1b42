using System.Diagnostics;
using System.Text;

namespace Gateway.Tests.Infrastructure;

/// <summary>
/// The built gateway (src/Gateway/bin/{Configuration}/net10.0/Gateway.dll) as a process of its own on a free loopback
/// port, configured through environment variables as a deployment would be: a replica that a test can kill outright.
/// </summary>
public sealed class GatewayProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private string? _ownDatabase;

    private GatewayProcess(Process process, Uri baseAddress)
    {
        _process = process;
        BaseAddress = baseAddress;
        // A response disposed before its end closes the connection at once, as a browser tab does: by default the
        // handler would go on reading it for up to 2 s to reuse the connection, and the gateway would see a watcher.
        Client = new HttpClient(new SocketsHttpHandler { MaxResponseDrainSize = 0 }) { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(60) };
    }

    public Uri BaseAddress { get; }

    public HttpClient Client { get; }

    public int ProcessId => _process.Id;

    /// <summary>What the process wrote, for a failing test's message.</summary>
    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    /// <param name="settings">Configuration keys (<c>Gateway:Storage:Provider</c>), passed as <c>Gateway__Storage__Provider</c>.</param>
    /// <param name="arguments">The command line after the gateway's path (<c>--Gateway:Models:echo:...=1</c>).</param>
    public static async Task<GatewayProcess> StartAsync(IReadOnlyDictionary<string, string?> settings, params string[] arguments)
    {
        var dll = BuiltFile("Gateway.dll");
        if (!File.Exists(dll))
        {
            throw new InvalidOperationException($"{dll} is missing: build the solution in {BuildConfiguration} first (scripts/test.sh does).");
        }

        var port = FreePort.Next();
        // Through env, with the stop signals at their defaults: a suite started in the background (nohup, or "&" in a
        // script) hands every child SIGHUP, SIGINT and SIGQUIT ignored, which the runtime leaves so, and the tests of
        // what those signals do then failed on a gateway that never got them.
        var start = new ProcessStartInfo("env")
        {
            ArgumentList = { "--default-signal=HUP,INT,QUIT", "dotnet", dll },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["Urls"] = $"http://127.0.0.1:{port}";
        start.Environment["DOTNET_ENVIRONMENT"] = "Production";
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        foreach (var (key, value) in settings)
        {
            start.Environment[key.Replace(":", "__", StringComparison.Ordinal)] = value;
        }

        // A database of its own, as GatewayHost gives: the default gateway.db in the working directory is one file for
        // every such process, and one refuses to start on a file another holds (a test then fails for another's reason).
        string? ownDatabase = null;
        if (!settings.ContainsKey(GatewayHost.StorageKey))
        {
            ownDatabase = GatewayHost.NewDatabasePath();
            start.Environment[GatewayHost.StorageKey.Replace(":", "__", StringComparison.Ordinal)] = GatewayHost.ConnectionString(ownDatabase);
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException("env (dotnet) did not start.");
        var gateway = new GatewayProcess(process, new Uri($"http://127.0.0.1:{port}")) { _ownDatabase = ownDatabase };
        process.OutputDataReceived += (_, line) => gateway.Append(line.Data);
        process.ErrorDataReceived += (_, line) => gateway.Append(line.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            await gateway.WaitUntilReadyAsync();
            return gateway;
        }
        catch
        {
            await gateway.DisposeAsync();
            throw;
        }
    }

    /// <summary>SIGKILL: the replica dies mid-whatever, with no shutdown of any kind, as on a crash or an OOM kill.</summary>
    public async Task KillAsync()
    {
        _process.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync();
    }

    /// <summary>SIGTERM, as an orchestrator stops a replica; waits for the process to exit and returns its exit code.</summary>
    public async Task<int> TerminateAsync(TimeSpan timeout)
    {
        await SignalAsync("TERM");
        await _process.WaitForExitAsync().WaitAsync(timeout);
        return _process.ExitCode;
    }

    /// <summary>Sends the signal (<c>STOP</c>: the process freezes, as in a long pause; <c>CONT</c>: it goes on).</summary>
    public async Task SignalAsync(string signal)
    {
        using var kill = Process.Start("kill", [$"-{signal}", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        await kill.WaitForExitAsync();
        Assert.Equal(0, kill.ExitCode);
    }

    /// <summary>Waits for the process to end by itself, and returns its exit code.</summary>
    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        await _process.WaitForExitAsync().WaitAsync(timeout);
        return _process.ExitCode;
    }

    /// <summary>A file of the built gateway, as the process started here runs it (its runtime config, say).</summary>
    public static string BuiltFile(string name) => Path.Combine(RepositoryRoot.Path, "src", "Gateway", "bin", BuildConfiguration, "net10.0", name);

    private static string BuildConfiguration =>
        // The test assembly runs from tests/Gateway.Tests/bin/{Configuration}/net10.0/.
        new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar)).Parent?.Name ?? "Release";

    private async Task WaitUntilReadyAsync()
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (DateTime.UtcNow < deadline)
        {
            if (_process.HasExited)
            {
                // HasExited can be true before the last lines are read: WaitForExitAsync waits for the output's end too.
                await _process.WaitForExitAsync();
                throw new InvalidOperationException($"The gateway exited with {_process.ExitCode}:\n{Output}");
            }

            try
            {
                using var ready = await Client.GetAsync("/readyz");
                if (ready.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }

            await Task.Delay(100);
        }

        throw new TimeoutException($"The gateway was not ready within 60 s:\n{Output}");
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            _output.AppendLine(line);
        }
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
        if (_ownDatabase is not null)
        {
            GatewayHost.DeleteDatabase(_ownDatabase);
        }
    }
}
