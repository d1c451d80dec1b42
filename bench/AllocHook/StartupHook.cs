using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Runtime;
using System.Text;

/// <summary>
/// A startup hook for benchmarking, never part of the gateway itself: with <c>DOTNET_STARTUP_HOOKS</c> pointing at
/// this assembly and <c>BENCH_ALLOC_PORT</c> set, the process answers every connection to that loopback port with
/// one line, <c>allocated gen0 gen1 gen2 server</c>: its exact allocated bytes so far, its collection counts and
/// whether it runs Server GC. The harness reads it before and after a measured window. With
/// <c>BENCH_ALLOC_SAMPLE=1</c> the lines after it list the types that allocation samples fell on, most bytes first.
/// </summary>
internal static class StartupHook
{
    private static AllocationSampler? _sampler;

    public static void Initialize()
    {
        if (!int.TryParse(Environment.GetEnvironmentVariable("BENCH_ALLOC_PORT"), out var port))
        {
            return;
        }

        if (Environment.GetEnvironmentVariable("BENCH_ALLOC_SAMPLE") == "1")
        {
            _sampler = new AllocationSampler();
        }

        var listener = new TcpListener(IPAddress.Loopback, port);
        listener.Start();
        // A thread of its own, so answering never waits behind a busy thread pool.
        new Thread(() => Serve(listener)) { IsBackground = true, Name = "bench-alloc-hook" }.Start();
    }

    private static void Serve(TcpListener listener)
    {
        while (true)
        {
            using var client = listener.AcceptTcpClient();
            var line = string.Create(
                CultureInfo.InvariantCulture,
                $"{GC.GetTotalAllocatedBytes(precise: true)} {GC.CollectionCount(0)} {GC.CollectionCount(1)} {GC.CollectionCount(2)} {GCSettings.IsServerGC}\n");
            if (_sampler is not null)
            {
                foreach (var (type, bytes) in _sampler.Top(40))
                {
                    line += string.Create(CultureInfo.InvariantCulture, $"{bytes,12} {type}\n");
                }
            }

            client.GetStream().Write(Encoding.UTF8.GetBytes(line));
        }
    }
}
