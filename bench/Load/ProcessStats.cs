using System.Globalization;
using System.Net.Sockets;

namespace Bench.Load;

/// <summary>
/// What the processes under test cost, read from outside: CPU from <c>/proc/PID/stat</c>, resident memory from
/// <c>/proc/PID/status</c> (its peak reset per window through <c>clear_refs</c>), and, for a .NET process carrying
/// the bench startup hook, its exact allocated bytes.
/// </summary>
internal sealed class ProcessStats(IReadOnlyList<int> pids, int? allocPort)
{
    // USER_HZ: the unit of utime and stime; 100 on every Linux build this runs on.
    private const double TicksPerSecond = 100;

    public bool Empty => pids.Count == 0;

    /// <summary>User plus system CPU of all the processes, in milliseconds.</summary>
    public double CpuMs()
    {
        double ticks = 0;
        foreach (var pid in pids)
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            // Fields after the command name, which is in parentheses and may hold spaces.
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            ticks += long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
        }

        return ticks / TicksPerSecond * 1000;
    }

    /// <summary>Restarts the peak-RSS mark (VmHWM) so the next reading covers only what follows.</summary>
    public void ResetPeakRss()
    {
        foreach (var pid in pids)
        {
            File.WriteAllText($"/proc/{pid}/clear_refs", "5");
        }
    }

    public double PeakRssMb() => SumStatusKb("VmHWM:") / 1024.0;

    public double RssMb() => SumStatusKb("VmRSS:") / 1024.0;

    /// <summary>Bytes the process has allocated since it started, or null without the hook.</summary>
    public async Task<long?> AllocatedBytesAsync()
    {
        if (allocPort is not { } port)
        {
            return null;
        }

        using var client = new TcpClient();
        await client.ConnectAsync("127.0.0.1", port);
        using var reader = new StreamReader(client.GetStream());
        var line = await reader.ReadLineAsync() ?? throw new InvalidOperationException("The alloc hook answered nothing.");
        return long.Parse(line.Split(' ')[0], CultureInfo.InvariantCulture);
    }

    private long SumStatusKb(string field)
    {
        long total = 0;
        foreach (var pid in pids)
        {
            foreach (var line in File.ReadLines($"/proc/{pid}/status"))
            {
                if (line.StartsWith(field, StringComparison.Ordinal))
                {
                    total += long.Parse(line[field.Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
                }
            }
        }

        return total;
    }
}
