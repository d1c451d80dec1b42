using System.Net;
using Microsoft.Extensions.Primitives;

namespace Gateway.Security;

/// <summary>
/// The clients a reverse proxy says it forwarded a request for (<c>X-Forwarded-For</c>, <c>X-Real-IP</c>,
/// <c>Forwarded: for=</c>). A keyless gateway listens on loopback so that only this machine can reach it; a proxy
/// on this machine (nginx, as <c>deploy/nginx.conf</c> has it) carries everyone else's requests to that loopback
/// address, and these headers are how it says so.
/// </summary>
internal static class ForwardedClients
{
    private const string ForwardedFor = "X-Forwarded-For";
    private const string RealIp = "X-Real-IP";
    private const string Forwarded = "Forwarded";

    /// <summary>
    /// Whether every client the request names as forwarded for is on this machine; true when it names none. A name
    /// that is not an address (<c>unknown</c>, an obfuscated <c>_id</c>) is taken as another machine: a client can add
    /// entries to these headers, but a proxy appends the real one, which can only make the answer no.
    /// </summary>
    public static bool AllLoopback(IHeaderDictionary headers) =>
        AllLoopback(headers[ForwardedFor], ForwardedForEntries)
        && AllLoopback(headers[RealIp], ForwardedForEntries)
        && AllLoopback(headers[Forwarded], ForwardedEntries);

    private static bool AllLoopback(StringValues values, Func<string, IEnumerable<string>> entries)
    {
        foreach (var value in values)
        {
            foreach (var entry in entries(value ?? ""))
            {
                if (!IsLoopbackAddress(entry))
                {
                    return false;
                }
            }
        }

        return true;
    }

    private static IEnumerable<string> ForwardedForEntries(string value) =>
        value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);

    // RFC 7239: "for=192.0.2.60;proto=http, for=\"[2001:db8::17]:4711\"".
    private static IEnumerable<string> ForwardedEntries(string value) =>
        value.Split([',', ';'], StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            .Where(pair => pair.StartsWith("for=", StringComparison.OrdinalIgnoreCase))
            .Select(pair => pair["for=".Length..].Trim('"'));

    /// <summary>
    /// An address, with or without a port (<c>127.0.0.1:5000</c>, <c>[::1]:80</c>, <c>::1</c>), on this machine; or
    /// <c>unix:</c>, which nginx names a client by that came through its Unix socket.
    /// </summary>
    private static bool IsLoopbackAddress(string entry) =>
        entry.StartsWith("unix:", StringComparison.OrdinalIgnoreCase)
        || ((IPAddress.TryParse(entry, out var address) || (IPEndPoint.TryParse(entry, out var endPoint) && (address = endPoint.Address) is not null))
            && Loopback.IsLoopback(address));
}
