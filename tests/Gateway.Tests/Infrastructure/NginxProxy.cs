using System.Diagnostics;
using System.Net.Sockets;

namespace Gateway.Tests.Infrastructure;

/// <summary>
/// The real nginx (Debian's package; scripts/install-test-deps.sh installs it) in front of a gateway, on a free
/// loopback port, with its own prefix folder. Stopped by its PID.
/// </summary>
public sealed class NginxProxy : IAsyncDisposable
{
    private static readonly string[] NginxPaths = ["/usr/sbin/nginx", "/usr/bin/nginx"];

    private readonly Process _process;
    private readonly string _prefix;

    private NginxProxy(Process process, string prefix, Uri baseAddress)
    {
        _process = process;
        _prefix = prefix;
        BaseAddress = baseAddress;
    }

    public Uri BaseAddress { get; }

    /// <summary>deploy/nginx.conf as shipped, with only its listen address and upstream server replaced.</summary>
    public static string DeployConfig(Uri gateway, int port)
    {
        var config = File.ReadAllText(Path.Combine(RepositoryRoot.Path, "deploy", "nginx.conf"));
        return Replace(Replace(config, "server 127.0.0.1:8080", $"server {gateway.Host}:{gateway.Port}"), "listen 80;", $"listen 127.0.0.1:{port};");
    }

    /// <summary>deploy/replicas/nginx.conf as shipped, with only its listen address and its replicas' addresses replaced.</summary>
    public static string ReplicasConfig(IReadOnlyList<Uri> replicas, int port)
    {
        var config = File.ReadAllText(Path.Combine(RepositoryRoot.Path, "deploy", "replicas", "nginx.conf"));
        for (var i = 0; i < replicas.Count; i++)
        {
            config = Replace(config, $"server gateway-{i + 1}:8080", $"server {replicas[i].Host}:{replicas[i].Port}");
        }

        return Replace(config, "listen 80;", $"listen 127.0.0.1:{port};");
    }

    /// <summary>What many people write first: a bare proxy_pass, with nginx's response buffering left on.</summary>
    public static string OrdinaryConfig(Uri gateway, int port) => $$"""
        worker_processes 1;
        events { worker_connections 256; }
        http {
            server {
                listen 127.0.0.1:{{port}};
                location / { proxy_pass http://{{gateway.Host}}:{{gateway.Port}}; }
            }
        }
        """;

    /// <param name="config">The configuration, given the port to listen on.</param>
    /// <param name="openFileLimit">The soft limit of open files nginx starts under (a service manager's 1,024, its hard limit left high), or the test's own.</param>
    public static async Task<NginxProxy> StartAsync(Func<int, string> config, int? openFileLimit = null)
    {
        var nginx = NginxPaths.FirstOrDefault(File.Exists)
            ?? throw new InvalidOperationException("nginx is not installed: run scripts/install-test-deps.sh (apt-get install nginx).");
        var port = FreePort.Next();
        var prefix = Directory.CreateTempSubdirectory("gateway-nginx-").FullName;
        Directory.CreateDirectory(Path.Combine(prefix, "logs"));
        var configPath = Path.Combine(prefix, "nginx.conf");
        await File.WriteAllTextAsync(configPath, config(port));

        string[] arguments = ["-p", prefix, "-c", configPath, "-g", $"daemon off; pid {prefix}/nginx.pid; error_log {prefix}/logs/error.log;"];
        // The shell lowers the limit and execs nginx in its place: the process started is nginx's master.
        var start = openFileLimit is { } limit
            ? new ProcessStartInfo("sh", ["-c", $"ulimit -Sn {limit} && exec \"$0\" \"$@\"", nginx, .. arguments])
            : new ProcessStartInfo(nginx, arguments);
        start.RedirectStandardError = true;
        start.RedirectStandardOutput = true;
        var process = Process.Start(start)!;
        var proxy = new NginxProxy(process, prefix, new Uri($"http://127.0.0.1:{port}"));
        for (var waited = 0; ; waited += 50)
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"nginx exited with {process.ExitCode}: {await process.StandardError.ReadToEndAsync()}");
            }

            if (await AcceptsAsync(port))
            {
                return proxy;
            }

            if (waited > 10_000)
            {
                await proxy.DisposeAsync();
                throw new TimeoutException("nginx did not listen within 10 s");
            }

            await Task.Delay(50);
        }
    }

    /// <summary>The soft limit of open files each of nginx's worker processes runs under, from /proc.</summary>
    public IReadOnlyList<long> WorkerOpenFileLimits()
    {
        var limits = new List<long>();
        var processes = Directory.EnumerateDirectories("/proc").Where(dir => Path.GetFileName(dir).All(char.IsAsciiDigit));
        foreach (var stat in processes.Select(dir => Path.Combine(dir, "stat")))
        {
            string text;
            try
            {
                text = File.ReadAllText(stat);
            }
            catch (IOException)
            {
                continue; // a process that ended meanwhile
            }

            // "pid (comm) state ppid ...": the name may hold spaces, so the fields are read after its last ')'.
            var fields = text[(text.LastIndexOf(')') + 2)..].Split(' ');
            if (fields[1] == _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture))
            {
                var line = File.ReadLines(Path.Combine(Path.GetDirectoryName(stat)!, "limits")).Single(l => l.StartsWith("Max open files", StringComparison.Ordinal));
                limits.Add(long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[3], System.Globalization.CultureInfo.InvariantCulture));
            }
        }

        return limits;
    }

    private static async Task<bool> AcceptsAsync(int port)
    {
        try
        {
            using var client = new TcpClient();
            await client.ConnectAsync("127.0.0.1", port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private static string Replace(string text, string from, string to) =>
        text.Contains(from, StringComparison.Ordinal)
            ? text.Replace(from, to, StringComparison.Ordinal)
            : throw new InvalidOperationException($"The nginx config under deploy/ no longer contains '{from}'; update the test harness with it.");

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
        Directory.Delete(_prefix, recursive: true);
    }
}
