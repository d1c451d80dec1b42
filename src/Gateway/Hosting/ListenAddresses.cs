using System.Net;

namespace Gateway.Hosting;

/// <summary>
/// Checks the addresses <c>--urls</c> (or <c>Urls</c>, <c>ASPNETCORE_URLS</c>) names before Kestrel reads them. Kestrel
/// refuses a malformed one with an unhandled exception and a stack trace, halfway through start-up, and reads one with
/// a port that is not a number (<c>http://127.0.0.1:abc</c>) as a host name: it then listens on every interface, on
/// port 80.
/// </summary>
internal static partial class ListenAddresses
{
    private const string Example = "e.g. --urls http://127.0.0.1:8080";

    /// <summary>The addresses as Kestrel splits them: empty entries dropped, spaces kept (and refused by <see cref="Check"/>).</summary>
    public static string[] Configured(IConfiguration configuration) =>
        (configuration[WebHostDefaults.ServerUrlsKey] ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries);

    public static void Check(IConfiguration configuration)
    {
        var problems = Configured(configuration).Select(Problem).OfType<string>().ToList();
        if (problems.Count > 0)
        {
            throw new StartupRefusedException(
                $"The addresses to listen on (--urls, Urls or ASPNETCORE_URLS) are not all usable: {string.Join(" ", problems)}");
        }
    }

    /// <summary>
    /// Says when <c>ASPNETCORE_URLS</c> names other addresses than the ones listened on. ASP.NET Core reads it under
    /// every other setting, so the root appsettings.json's <c>Urls</c> (or the image's) wins over it, and a gateway started
    /// with <c>-e ASPNETCORE_URLS=http://+:9000</c> listened on 8080 without a word.
    /// </summary>
    public static void SayIfEnvironmentUrlsUnused(IConfiguration configuration, ILogger logger) =>
        SayIfEnvironmentUrlsUnused(Environment.GetEnvironmentVariable("ASPNETCORE_URLS"), configuration, logger);

    /// <param name="asked">What <c>ASPNETCORE_URLS</c> says.</param>
    /// <param name="configuration">The settings the addresses are read from.</param>
    /// <param name="logger">Where it is said.</param>
    internal static void SayIfEnvironmentUrlsUnused(string? asked, IConfiguration configuration, ILogger logger)
    {
        var used = configuration[WebHostDefaults.ServerUrlsKey] ?? "";
        // Endpoints of Kestrel's own section override both, and Kestrel says so itself.
        if (!string.IsNullOrWhiteSpace(asked) && !SameAddresses(asked, used) && !configuration.GetSection("Kestrel:Endpoints").GetChildren().Any())
        {
            LogEnvironmentUrlsUnused(logger, asked, used);
        }
    }

    /// <summary>The same addresses, as Kestrel reads them: in any order, in any case, a trailing slash aside.</summary>
    private static bool SameAddresses(string one, string other) =>
        Normalized(one).SetEquals(Normalized(other));

    // "+" and "*" both mean every interface to Kestrel.
    private static HashSet<string> Normalized(string urls) =>
        urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(url => url.TrimEnd('/').Replace("://+", "://*", StringComparison.Ordinal))
            .ToHashSet(StringComparer.OrdinalIgnoreCase);

    [LoggerMessage(Level = LogLevel.Warning,
        Message = "ASPNETCORE_URLS ({Asked}) is not used: the gateway listens on {Used}, from Urls (the root appsettings.json sets it) or --urls, which ASP.NET Core reads over it. Set Urls (the environment variable Urls, or --urls) instead")]
    private static partial void LogEnvironmentUrlsUnused(ILogger logger, string asked, string used);

    private static string? Problem(string url)
    {
        if (url != url.Trim())
        {
            return $"'{url}' has spaces around it (separate addresses with ';' alone).";
        }

        BindingAddress address;
        try
        {
            address = BindingAddress.Parse(url);
        }
        catch (FormatException)
        {
            return $"'{url}' is not a URL: it needs a scheme, a host and a port ({Example}).";
        }

        // Kestrel reads the scheme in any case (HTTP://...).
        if (!address.Scheme.Equals("http", StringComparison.OrdinalIgnoreCase) && !address.Scheme.Equals("https", StringComparison.OrdinalIgnoreCase))
        {
            return $"'{url}' has the scheme '{address.Scheme}'; only http and https are served ({Example}).";
        }

        if (address.IsUnixPipe || address.IsNamedPipe)
        {
            return null;
        }

        // Past the host, a colon is a port that was not a number; an IPv6 address keeps its brackets, and a bracketed
        // host that is not one (http://[zz]:8080) Kestrel also takes for "every interface".
        var host = address.Host;
        if (host.StartsWith("unix:", StringComparison.OrdinalIgnoreCase))
        {
            return $"'{url}' names a Unix socket by a relative path; give it whole (http://unix:/run/gateway.sock).";
        }

        var portNotANumber = host.StartsWith('[')
            ? !host.EndsWith(']') || !IPAddress.TryParse(host[1..^1], out var v6) || v6.AddressFamily != System.Net.Sockets.AddressFamily.InterNetworkV6
            : host.Contains(':', StringComparison.Ordinal);
        if (portNotANumber)
        {
            return host.StartsWith('[') && host.EndsWith(']')
                ? $"'{url}' has a bracketed host that is not an IPv6 address ({Example})."
                : $"'{url}' has a port that is not a number ({Example}).";
        }

        if (address.PathBase.Length > 0)
        {
            return $"'{url}' has a path ('{address.PathBase}'); the gateway listens at the root: remove it ({Example}).";
        }

        return address.Port is < IPEndPoint.MinPort or > IPEndPoint.MaxPort
            ? $"'{url}' has the port {address.Port}; a port is between 0 and 65535 ({Example})."
            : null;
    }
}
