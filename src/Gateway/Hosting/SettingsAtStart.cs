using Microsoft.AspNetCore.HostFiltering;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Gateway.Hosting;

/// <summary>
/// The gateway runs on its settings as they were when it started. ASP.NET Core reloads <c>appsettings.json</c> when the
/// file is saved, and what was bound to the live configuration followed an edit piecemeal: the resilience settings,
/// read per call, took it at once (with a bad value, <c>FirstTokenTimeoutSeconds: -5</c>, every streamed completion
/// became a 500 until the file was mended), Kestrel moved its listeners and <c>AllowedHosts</c> could lock every caller
/// out, while the routes, keys and limits, read once, did not change. So the services see a copy of the configuration
/// taken as the host is built, and the host's own two live bindings read that copy; the live configuration still drives
/// the log levels (the host binds <c>Logging</c> to it itself), which an operator may turn up and down without a
/// restart; and any other change is logged, naming its keys, as applying at the next restart.
/// </summary>
internal static class SettingsAtStart
{
    private const string LoggingSection = "Logging:";

    public static WebApplicationBuilder UseSettingsAtStart(this WebApplicationBuilder builder)
    {
        var live = builder.Configuration;
        // Taken at its first use, once the host is built: every source is in by then, whatever was added after this.
        // The last registration wins over the host's own (the live ConfigurationManager).
        builder.Services.AddSingleton<IConfiguration>(_ => new ConfigurationBuilder().AddInMemoryCollection(KeySpelling.Respelled(live)).Build());
        // Watched still, for a renewed certificate file: the copy itself never changes, so the endpoints stay.
        builder.WebHost.ConfigureKestrel((context, kestrel) =>
            kestrel.Configure(kestrel.ApplicationServices.GetRequiredService<IConfiguration>().GetSection("Kestrel"), reloadOnChange: true));
        // AllowedHosts is read from the live configuration (by the host's defaults) and re-read as it changes.
        builder.Services.RemoveAll<IOptionsChangeTokenSource<HostFilteringOptions>>();
        builder.Services.AddHostedService(services => new SettingsChangeWatch(
            live, services.GetRequiredService<IConfiguration>(), services.GetRequiredService<ILogger<SettingsChangeWatch>>()));
        return builder;
    }

    /// <summary>The keys whose values differ between the two, in order, but for the log levels, which apply as saved.</summary>
    public static IReadOnlyList<string> ChangedKeys(IConfiguration live, IConfiguration atStart)
    {
        var now = Values(live);
        var then = Values(atStart);
        return [.. now.Keys.Union(then.Keys, StringComparer.OrdinalIgnoreCase)
            .Where(key => now.GetValueOrDefault(key) != then.GetValueOrDefault(key))
            .Order(StringComparer.OrdinalIgnoreCase)];
    }

    /// <summary>The settings: keys are matched as the binder matches them, case aside; sections hold no value.</summary>
    private static Dictionary<string, string> Values(IConfiguration configuration) =>
        configuration.AsEnumerable()
            .Where(pair => pair.Value is not null && !pair.Key.StartsWith(LoggingSection, StringComparison.OrdinalIgnoreCase))
            .ToDictionary(pair => pair.Key, pair => pair.Value!, StringComparer.OrdinalIgnoreCase);
}
