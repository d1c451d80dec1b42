using System.Diagnostics;
using Npgsql;

namespace Gateway.Tests.Infrastructure;

/// <summary>
/// One real PostgreSQL (Debian's <c>postgresql</c> package; scripts/install-test-deps.sh installs it) for the whole
/// test run: initdb into a temporary folder, listening on a free loopback port, started on first use and stopped
/// (with its folder deleted) when the test process exits. Each caller gets a fresh database of its own.
/// </summary>
public static class PostgresServer
{
    private const string InstallHint = "scripts/install-test-deps.sh installs it (apt-get install postgresql)";

    private static readonly Lazy<Task<Instance>> Server = new(StartAsync);

    /// <summary>Creates an empty database and returns an Npgsql connection string to it.</summary>
    public static async Task<string> CreateDatabaseAsync()
    {
        var server = await Server.Value;
        var name = $"gateway_{Guid.NewGuid():N}";
        await using (var connection = new NpgsqlConnection(server.ConnectionString("postgres")))
        {
            await connection.OpenAsync();
            await using var create = new NpgsqlCommand($"CREATE DATABASE {name};", connection);
            await create.ExecuteNonQueryAsync();
        }

        return server.ConnectionString(name);
    }

    private static async Task<Instance> StartAsync()
    {
        var bin = FindBinaries();
        var folder = Directory.CreateTempSubdirectory("gateway-pg-").FullName;
        var asRoot = Environment.UserName == "root";
        if (asRoot)
        {
            // PostgreSQL refuses to run as root: its own system user runs it, and needs the folder.
            await RunAsync("chown", ["postgres:", folder], asRoot: false, folder);
        }

        var data = Path.Combine(folder, "data");
        var port = FreePort.Next();
        var instance = new Instance(bin, folder, data, port, asRoot);
        try
        {
            await RunAsync(Path.Combine(bin, "initdb"), ["-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-locale", "--no-sync"], asRoot, folder);
            // Throwaway data on a shared two-core machine: small, and never waiting on the disk.
            await File.AppendAllTextAsync(Path.Combine(data, "postgresql.conf"), $"""

                listen_addresses = '127.0.0.1'
                port = {port}
                unix_socket_directories = '{folder}'
                max_connections = 100
                shared_buffers = 32MB
                fsync = off
                synchronous_commit = off
                full_page_writes = off
                """);
            await RunAsync(
                Path.Combine(bin, "pg_ctl"), ["-D", data, "-l", Path.Combine(folder, "postgres.log"), "-w", "-t", "60", "start"], asRoot, folder);
        }
        finally
        {
            instance.StopWhenThisProcessExits();
        }

        return instance;
    }

    /// <summary>The newest installed server, from Debian's versioned folder (a fresh machine has no links on PATH).</summary>
    private static string FindBinaries()
    {
        const string root = "/usr/lib/postgresql";
        var bin = Directory.Exists(root)
            ? Directory.GetDirectories(root)
                .Select(directory => (Directory: directory, Version: int.TryParse(Path.GetFileName(directory), out var version) ? version : -1))
                .Where(candidate => File.Exists(Path.Combine(candidate.Directory, "bin", "pg_ctl")))
                .OrderByDescending(candidate => candidate.Version)
                .Select(candidate => Path.Combine(candidate.Directory, "bin"))
                .FirstOrDefault()
            : null;
        return bin ?? throw new InvalidOperationException($"PostgreSQL is not installed under {root}: {InstallHint}.");
    }

    private static async Task RunAsync(string program, string[] arguments, bool asRoot, string workingDirectory)
    {
        var start = new ProcessStartInfo(asRoot ? "runuser" : program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = workingDirectory,
        };
        if (asRoot)
        {
            foreach (var argument in new[] { "-u", "postgres", "--", program })
            {
                start.ArgumentList.Add(argument);
            }
        }

        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        var stdout = process.StandardOutput.ReadToEndAsync(timeout.Token);
        var stderr = process.StandardError.ReadToEndAsync(timeout.Token);
        await process.WaitForExitAsync(timeout.Token);
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException(
                $"{Path.GetFileName(program)} {string.Join(' ', arguments)} exited with {process.ExitCode}: {await stdout}{await stderr}");
        }
    }

    private sealed class Instance(string bin, string folder, string data, int port, bool asRoot)
    {
        public string ConnectionString(string database) =>
            $"Host=127.0.0.1;Port={port};Username=postgres;Database={database};Timeout=10;Maximum Pool Size=20";

        /// <summary>
        /// Stops the server when the test process ends, however it ends: the runner kills the test process soon after
        /// the last test, even in the middle of a ProcessExit handler, so a watchdog of its own session waits for this
        /// process to be gone, then stops this server (by its data folder) and deletes the folder.
        /// </summary>
        public void StopWhenThisProcessExits()
        {
            var pgCtl = $"{(asRoot ? "runuser -u postgres -- " : "")}'{bin}/pg_ctl' -D '{data}' -m immediate -w stop";
            var watchdog = new ProcessStartInfo("setsid")
            {
                ArgumentList =
                {
                    "sh", "-c",
                    $"exec </dev/null >/dev/null 2>&1; while kill -0 {Environment.ProcessId}; do sleep 0.2; done; " +
                    $"[ -f '{data}/postmaster.pid' ] && {pgCtl}; rm -rf '{folder}'",
                },
            };
            using var process = Process.Start(watchdog);
            // The watchdog acts up to 0.2 s late; an orderly exit stops the server at once, without waiting for it.
            AppDomain.CurrentDomain.ProcessExit += (_, _) => Process.Start(
                asRoot ? "runuser" : Path.Combine(bin, "pg_ctl"),
                [.. asRoot ? new[] { "-u", "postgres", "--", Path.Combine(bin, "pg_ctl") } : [], "-D", data, "-m", "immediate", "-W", "stop"])?.Dispose();
        }
    }
}
