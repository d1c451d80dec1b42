using System.Diagnostics;
using System.Globalization;

namespace Bench.Load;

/// <summary>
/// One cell of the table: a warm-up, then <c>concurrency</c> closed-loop workers streaming for a fixed time
/// (stretched until at least <c>--min-streams</c> have started).
/// The window ends when the last stream started in it ends, so the CPU and bytes read around it belong to
/// exactly the streams counted.
/// </summary>
internal static class LoadRun
{
    public static async Task<int> RunAsync(Options options)
    {
        var target = options.Text("--target");
        var concurrency = options.Int("--concurrency", 1);
        var tokens = options.Int("--tokens", 20);
        var warmup = options.Int("--warmup", 1000);
        var seconds = options.Int("--seconds", 8);
        var minStreams = options.Int("--min-streams", 0);
        var stats = new ProcessStats(options.Pids("--pids"), options.OptionalInt("--alloc-port"));
        using var client = new StreamClient(
            new Uri(options.Text("--url")), options.Text("--model", "bench"), tokens, maxConnections: int.MaxValue, options.Headers("--headers"));

        var settle = new ProcessStats([.. options.Pids("--pids"), .. options.Pids("--settle-pids")], allocPort: null);
        if (warmup > 0)
        {
            // Two rounds, each settled. With Dynamic PGO a hot method is first recompiled with instrumentation, and its
            // final code is made only once that code, installed, has been called again: after one round and its settling
            // the gateway's whole request path (~2,000 methods, from its perf map) waited for those calls: the first ~30
            // streams of a cell at concurrency 1 ran it, and the first seconds of bench/profile.sh's samples were JIT.
            for (var round = 1; round <= 2; round++)
            {
                var warm = await WorkAsync(client, Math.Max(concurrency, 32), Budget.Count(warmup, TimeSpan.FromSeconds(120)));
                Console.Error.WriteLine($"  warm-up {target} ({round} of 2): {warm.Ok.Count} streams, {warm.Errors} errors");
                await SettleAsync(settle);
            }
        }
        else
        {
            await SettleAsync(settle);
        }

        var cpuBefore = stats.Empty ? 0 : stats.CpuMs();
        var allocBefore = await stats.AllocatedBytesAsync();
        if (!stats.Empty)
        {
            stats.ResetPeakRss();
        }

        var started = Stopwatch.GetTimestamp();
        var result = await WorkAsync(client, concurrency, Budget.Time(TimeSpan.FromSeconds(seconds), minStreams));
        var elapsed = Stopwatch.GetElapsedTime(started).TotalSeconds;
        var allocAfter = await stats.AllocatedBytesAsync();
        var streams = result.Ok.Count;
        var streamedTokens = (double)streams * tokens;

        var row = new Row(
            target, concurrency, streams, result.Errors,
            Percentile(result.Ok, r => r.FirstEventMs, 0.50), Percentile(result.Ok, r => r.FirstEventMs, 0.99),
            Percentile(result.Ok, r => r.TotalMs, 0.50),
            streams / elapsed, streamedTokens / elapsed,
            stats.Empty || streams == 0 ? double.NaN : (stats.CpuMs() - cpuBefore) / streamedTokens * 1000,
            allocBefore is { } before && allocAfter is { } after && streams > 0 ? (after - before) / (double)streams : double.NaN,
            stats.Empty ? double.NaN : stats.PeakRssMb());
        await File.AppendAllTextAsync(options.Text("--out"), row.ToTsv() + "\n");
        Console.Error.WriteLine($"  {target} c={concurrency}: {streams} streams, {result.Errors} errors, TTFT p50 {row.TtftP50Ms:F2} ms");
        return 0;
    }

    /// <summary>
    /// Waits, up to 20 s, until the processes are idle (under 5 % of a core for half a second). After a warm-up
    /// .NET keeps recompiling hot methods at higher tiers in the background for a few seconds, on the same two cores
    /// the measurement needs: measured straight away, that work shows up as CPU and latency of the first cell.
    /// </summary>
    private static async Task SettleAsync(ProcessStats stats)
    {
        if (stats.Empty)
        {
            return;
        }

        var deadline = Stopwatch.GetTimestamp() + (20 * Stopwatch.Frequency);
        while (Stopwatch.GetTimestamp() < deadline)
        {
            var before = stats.CpuMs();
            await Task.Delay(500);
            if (stats.CpuMs() - before <= 25)
            {
                return;
            }
        }
    }

    internal static async Task<(List<StreamResult> Ok, int Errors)> WorkAsync(StreamClient client, int concurrency, Budget budget)
    {
        var workers = new Task<(List<StreamResult>, int)>[concurrency];
        for (var i = 0; i < concurrency; i++)
        {
            workers[i] = Task.Run(async () =>
            {
                var buffer = new byte[16 * 1024];
                var ok = new List<StreamResult>();
                var errors = 0;
                while (budget.TryTake())
                {
                    var result = await client.RunAsync(buffer, CancellationToken.None);
                    if (result.Ok)
                    {
                        ok.Add(result);
                    }
                    else
                    {
                        errors++;
                    }
                }

                return (ok, errors);
            });
        }

        var all = new List<StreamResult>();
        var errorCount = 0;
        foreach (var (ok, errors) in await Task.WhenAll(workers))
        {
            all.AddRange(ok);
            errorCount += errors;
        }

        return (all, errorCount);
    }

    private static double Percentile(List<StreamResult> results, Func<StreamResult, double> value, double p)
    {
        if (results.Count == 0)
        {
            return double.NaN;
        }

        var sorted = results.Select(value).Order().ToArray();
        return sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(p * sorted.Length) - 1)];
    }
}

/// <summary>
/// How many streams a run may start: a count within a time cap (whichever ends first), or a time that is stretched
/// until a minimum count has started.
/// </summary>
internal sealed class Budget
{
    private readonly long _deadline;
    private readonly long _limit;
    private readonly long _minimum;
    private long _taken;

    private Budget(long limit, long minimum, TimeSpan time)
    {
        _limit = limit;
        _minimum = minimum;
        _deadline = Stopwatch.GetTimestamp() + (long)(time.TotalSeconds * Stopwatch.Frequency);
    }

    public static Budget Count(int streams, TimeSpan cap) => new(streams, 0, cap);

    /// <summary>
    /// For <paramref name="time"/>, and on until <paramref name="minimum"/> streams have started: a percentile needs
    /// samples (the p99 of fewer than 100 is the worst one), and one stream at a time starts only about 7 a second.
    /// </summary>
    public static Budget Time(TimeSpan time, int minimum) => new(long.MaxValue, minimum, time);

    public bool TryTake()
    {
        var taken = Interlocked.Increment(ref _taken);
        return taken <= _limit && (taken <= _minimum || Stopwatch.GetTimestamp() < _deadline);
    }
}

/// <summary>One measured cell, as a line of the results file.</summary>
internal sealed record Row(
    string Target, int Concurrency, int Streams, int Errors, double TtftP50Ms, double TtftP99Ms, double StreamP50Ms,
    double RequestsPerSecond, double TokensPerSecond, double CpuMsPer1kTokens, double BytesPerStream, double PeakRssMb)
{
    public string ToTsv() => string.Join('\t', new object[]
    {
        Target, Concurrency, Streams, Errors, TtftP50Ms, TtftP99Ms, StreamP50Ms, RequestsPerSecond, TokensPerSecond,
        CpuMsPer1kTokens, BytesPerStream, PeakRssMb,
    }.Select(v => Convert.ToString(v, CultureInfo.InvariantCulture)));

    public static Row FromTsv(string line)
    {
        var f = line.Split('\t');
        double D(int i) => double.Parse(f[i], CultureInfo.InvariantCulture);
        return new Row(f[0], int.Parse(f[1], CultureInfo.InvariantCulture), int.Parse(f[2], CultureInfo.InvariantCulture),
            int.Parse(f[3], CultureInfo.InvariantCulture), D(4), D(5), D(6), D(7), D(8), D(9), D(10), D(11));
    }
}
