using System.Net;
using System.Net.Sockets;

namespace Gateway.Tests.Infrastructure;

public static class FreePort
{
    // Ports are handed out from below the kernel's ephemeral range (32768-60999 here): a port 0 bind returns one from
    // that range, which every outgoing connection of every test also draws from, so a port asked for and released
    // could be taken as a client's local port before the tool bound it (a replica test lost that race once). Below
    // the range, only listeners compete (a tool of another process may still take one between this check and the bind);
    // each port is handed out once per test process, from a start of its own.
    private const int First = 21000;
    private const int Count = 11000;
    private static int _next = (int)((long)Environment.ProcessId * 7919 % Count);

    /// <summary>A loopback port free at the time of asking, for tools that cannot bind port 0 and report back.</summary>
    public static int Next()
    {
        for (var tries = 0; tries < Count; tries++)
        {
            var port = First + (int)((uint)Interlocked.Increment(ref _next) % Count);
            if (IsFree(port))
            {
                return port;
            }
        }

        throw new InvalidOperationException($"No free loopback port in {First}-{First + Count - 1}.");
    }

    private static bool IsFree(int port)
    {
        try
        {
            using var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
