using System.Diagnostics;

namespace Gateway.Tests.Infrastructure;

/// <summary>Runs a command-line tool the suite depends on; a missing tool fails the test, it never skips it.</summary>
public static class Tool
{
    public static string Require(string name)
    {
        foreach (var directory in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator))
        {
            var path = Path.Combine(directory, name);
            if (File.Exists(path))
            {
                return path;
            }
        }

        throw new InvalidOperationException(
            $"'{name}' is not on PATH; scripts/install-test-deps.sh installs it (Debian package 'prometheus').");
    }

    public static async Task<(int ExitCode, string Output)> RunAsync(string name, string arguments, string? standardInput = null)
    {
        var start = new ProcessStartInfo(Require(name), arguments)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = Process.Start(start)!;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var stdout = process.StandardOutput.ReadToEndAsync(timeout.Token);
        var stderr = process.StandardError.ReadToEndAsync(timeout.Token);
        if (standardInput is not null)
        {
            await process.StandardInput.WriteAsync(standardInput);
        }

        process.StandardInput.Close();
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await stdout + await stderr);
    }
}
