using System.Net;

namespace Gateway.Security;

internal static class Loopback
{
    public static bool IsLoopback(IPAddress address) =>
        IPAddress.IsLoopback(address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address);

    /// <summary>
    /// Whether a bound server address (as Kestrel reports it, e.g. <c>http://[::]:8080</c>) is reachable only from
    /// this machine: a loopback IP, <c>localhost</c>, or a Unix socket or named pipe.
    /// </summary>
    public static bool IsLocalOnly(string serverAddress)
    {
        var binding = BindingAddress.Parse(serverAddress);
        if (binding.IsUnixPipe || binding.IsNamedPipe)
        {
            return true;
        }

        var host = binding.Host.Trim('[', ']');
        return string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase)
            || (IPAddress.TryParse(host, out var ip) && IsLoopback(ip));
    }
}
