using System.Runtime.CompilerServices;

namespace Gateway.Tests.Infrastructure;

/// <summary>
/// One test process hosts, at once, a gateway (real Kestrel), the fake upstreams it calls (two more Kestrels) and the
/// clients, on a two-core machine whose thread pool starts with two workers and adds more only about twice a
/// second. Tests that hold a real clock against the gateway's (a stream with 400 ms gaps under a 1 s idle timeout)
/// then fail when those few workers are busy for a moment: measured, 2 to 7 runs in 16 of that test alone, none with
/// a floor of 16 workers. The gateway in production runs alone in its process, where the benchmark measures it.
/// </summary>
internal static class TestProcessThreads
{
    [ModuleInitializer]
    internal static void RaiseTheThreadPoolFloor()
    {
        ThreadPool.GetMinThreads(out var workers, out var completionPorts);
        ThreadPool.SetMinThreads(Math.Max(workers, 16), Math.Max(completionPorts, 16));
    }
}
