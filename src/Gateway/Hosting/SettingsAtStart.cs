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
        builder.Services.AddSingleton<IConfiguration>(_ => new ConfigurationBuilder().AddInMemoryCollection(FirstSpelled(live)).Build());
        // Watched still, for a renewed certificate file: the copy itself never changes, so the endpoints stay.
        builder.WebHost.ConfigureKestrel((context, kestrel) =>
            kestrel.Configure(kestrel.ApplicationServices.GetRequiredService<IConfiguration>().GetSection("Kestrel"), reloadOnChange: true));
        // AllowedHosts is read from the live configuration (by the host's defaults) and re-read as it changes.
        builder.Services.RemoveAll<IOptionsChangeTokenSource<HostFilteringOptions>>();
        builder.Services.AddHostedService(services => new SettingsChangeWatch(
            live, services.GetRequiredService<IConfiguration>(), services.GetRequiredService<ILogger<SettingsChangeWatch>>()));
        return builder;
    }

    /// <summary>
    /// The settings, each key spelled as the first source that names it spells it: the settings file's, under an
    /// environment variable's capitals. The configuration merges its sources' keys ignoring case, and which spelling
    /// survived was its sort's pick: an override <c>GATEWAY__MODELS__ECHO__PRICING__INPUTPERMILLION</c> renamed the
    /// file's alias <c>echo</c> to <c>ECHO</c> in every answer, listing and metric.
    /// </summary>
    private static IEnumerable<KeyValuePair<string, string?>> FirstSpelled(IConfigurationRoot live)
    {
        // The children of each section as the sources name them, the first source's spelling kept: section path → (name → spelling).
        var children = new Dictionary<string, Dictionary<string, string>>(StringComparer.OrdinalIgnoreCase);
        var spelled = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var (key, value) in live.AsEnumerable())
        {
            yield return new(Spell(key), value);
        }

        string Spell(string path)
        {
            if (spelled.TryGetValue(path, out var known))
            {
                return known;
            }

            var cut = path.LastIndexOf(':');
            var parent = cut < 0 ? null : path[..cut];
            var name = path[(cut + 1)..];
            var spelling = ChildrenOf(parent).GetValueOrDefault(name, name);
            return spelled[path] = parent is null ? spelling : $"{Spell(parent)}:{spelling}";
        }

        Dictionary<string, string> ChildrenOf(string? parent)
        {
            if (!children.TryGetValue(parent ?? "", out var names))
            {
                names = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
                foreach (var provider in live.Providers)
                {
                    foreach (var child in provider.GetChildKeys([], parent))
                    {
                        names.TryAdd(child, child);
                    }
                }

                children[parent ?? ""] = names;
            }

            return names;
        }
    }

    /// <summary>The keys whose values differ between the two, in order, but for the log levels, which apply as saved.</summary>
    public static IReadOnlyList<string> ChangedKeys(IConfiguration live, IConfiguration atStart)
    {
        var now = Values(live);
        var then = Values(atStart);
        return [.. now.Keys.Union(then.Keys)
            .Where(key => now.GetValueOrDefault(key) != then.GetValueOrDefault(key))
            .Order(StringComparer.OrdinalIgnoreCase)];
    }

    /// <summary>The settings: keys are matched as the binder matches them, case aside; sections hold no value.</summary>
    private static Dictionary<string, string> Values(IConfiguration configuration) =>
        configuration.AsEnumerable()
            .Where(pair => pair.Value is not null && !pair.Key.StartsWith(LoggingSection, StringComparison.OrdinalIgnoreCase))
            .ToDictionary(pair => pair.Key, pair => pair.Value!, StringComparer.OrdinalIgnoreCase);
}
