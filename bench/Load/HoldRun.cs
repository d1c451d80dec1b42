using System.Diagnostics;
using System.Globalization;

namespace Bench.Load;

/// <summary>
/// The memory run: opens <c>--streams</c> slow streams at once, holds them to their end, and samples the resident
/// memory of the processes under test the whole time.
/// </summary>
internal static class HoldRun
{
    public static async Task<int> RunAsync(Options options)
    {
        var streams = options.Int("--streams", 5000);
        var tokens = options.Int("--tokens", 30);
        var stats = new ProcessStats(options.Pids("--pids"), allocPort: null);
        using var client = new StreamClient(new Uri(options.Text("--url")), options.Text("--model", "bench"), tokens, maxConnections: int.MaxValue);
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(options.Int("--timeout-seconds", 120)));
        stats.ResetPeakRss();

        var started = Stopwatch.GetTimestamp();
        // Connections are opened a few hundred at a time so the listen backlog never overflows.
        using var connecting = new SemaphoreSlim(options.Int("--connect-parallelism", 200));
        var tasks = new Task<StreamResult>[streams];
        for (var i = 0; i < streams; i++)
        {
            await connecting.WaitAsync(cancel.Token);
            tasks[i] = Task.Run(async () =>
            {
                var released = 0;
                void Release()
                {
                    if (Interlocked.Exchange(ref released, 1) == 0)
                    {
                        connecting.Release();
                    }
                }

                try
                {
                    return await client.RunAsync(new byte[4096], cancel.Token, Release);
                }
                finally
                {
                    Release();
                }
            });
        }

        var opened = Stopwatch.GetElapsedTime(started).TotalSeconds;
        var maxRss = 0.0;
        var all = Task.WhenAll(tasks);
        while (!all.IsCompleted)
        {
            maxRss = Math.Max(maxRss, stats.RssMb());
            await Task.WhenAny(all, Task.Delay(500));
        }

        var results = await all;
        var ok = results.Count(r => r.Ok);
        var line = string.Create(CultureInfo.InvariantCulture,
            $"{options.Text("--target")}\t{streams}\t{ok}\t{streams - ok}\t{opened:F1}\t{maxRss:F0}\t{stats.PeakRssMb():F0}\t{Stopwatch.GetElapsedTime(started).TotalSeconds:F1}");
        await File.AppendAllTextAsync(options.Text("--out"), line + "\n");
        Console.Error.WriteLine($"  hold: {ok}/{streams} ok, peak RSS {stats.PeakRssMb():F0} MB");
        return 0;
    }
}
