namespace Gateway.Hosting;

/// <summary>
/// The gateway runs on its settings as they were when it started. ASP.NET Core reloads <c>appsettings.json</c> when the
/// file is saved, and options bound to the live configuration followed an edit piecemeal: the resilience settings,
/// read per call, took it at once (with a bad value, <c>FirstTokenTimeoutSeconds: -5</c>, every streamed completion
/// became a 500 until the file was mended), while the routes, keys and limits, read once, did not. So the services see
/// a copy of the configuration taken when the gateway is added; the live one still drives the log levels (the host binds
/// <c>Logging</c> to it itself), which an operator may turn up and down without a restart; and a change to the
/// <c>Gateway</c> section is logged, naming its keys, as applying at the next restart.
/// </summary>
internal static class SettingsAtStart
{
    public const string Section = "Gateway";

    /// <summary>Call once every configuration source is in: what is added later reaches no service.</summary>
    public static WebApplicationBuilder UseSettingsAtStart(this WebApplicationBuilder builder)
    {
        var live = builder.Configuration;
        var atStart = new ConfigurationBuilder().AddInMemoryCollection(live.AsEnumerable()).Build();
        // The last registration wins over the host's own (the live ConfigurationManager).
        builder.Services.AddSingleton<IConfiguration>(atStart);
        builder.Services.AddHostedService(services => new SettingsChangeWatch(
            live, atStart, services.GetRequiredService<ILogger<SettingsChangeWatch>>()));
        return builder;
    }

    /// <summary>The keys under <see cref="Section"/> whose values differ between the two, in order.</summary>
    public static IReadOnlyList<string> ChangedKeys(IConfiguration live, IConfiguration atStart)
    {
        var now = Values(live);
        var then = Values(atStart);
        return [.. now.Keys.Union(then.Keys)
            .Where(key => now.GetValueOrDefault(key) != then.GetValueOrDefault(key))
            .Order(StringComparer.OrdinalIgnoreCase)];
    }

    /// <summary>The section's settings: keys are matched as the binder matches them, case aside; sections hold no value.</summary>
    private static Dictionary<string, string> Values(IConfiguration configuration) =>
        configuration.GetSection(Section).AsEnumerable()
            .Where(pair => pair.Value is not null)
            .ToDictionary(pair => pair.Key, pair => pair.Value!, StringComparer.OrdinalIgnoreCase);
}
