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

    public static async Task<NginxProxy> StartAsync(Func<int, string> config)
    {
        var nginx = NginxPaths.FirstOrDefault(File.Exists)
            ?? throw new InvalidOperationException("nginx is not installed: run scripts/install-test-deps.sh (apt-get install nginx).");
        var port = FreePort.Next();
        var prefix = Directory.CreateTempSubdirectory("gateway-nginx-").FullName;
        Directory.CreateDirectory(Path.Combine(prefix, "logs"));
        var configPath = Path.Combine(prefix, "nginx.conf");
        await File.WriteAllTextAsync(configPath, config(port));

        var start = new ProcessStartInfo(nginx)
        {
            ArgumentList = { "-p", prefix, "-c", configPath, "-g", $"daemon off; pid {prefix}/nginx.pid; error_log {prefix}/logs/error.log;" },
            RedirectStandardError = true,
            RedirectStandardOutput = true,
        };
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
