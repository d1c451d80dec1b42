namespace Gateway.Hosting;

/// <summary>
/// How the gateway spells a configuration key that its sources spell in different capitals: as the settings file
/// spells it, else as the first source that names it does. The configuration merges its sources' keys ignoring case,
/// and which spelling survived was its sort's pick, in practice the last source's: an override
/// <c>GATEWAY__MODELS__ECHO__PRICING__INPUTPERMILLION</c> renamed the file's alias <c>echo</c> to <c>ECHO</c> in every
/// answer, listing and metric. The copy the services read (<see cref="SettingsAtStart"/>) and the provider names that
/// HTTP clients and resilience settings are registered under before that copy exists are spelled by the same rule, so
/// that a provider is found under the name it was registered with.
/// </summary>
internal sealed class KeySpelling
{
    private readonly IConfigurationProvider[] _sources;
    private readonly Dictionary<string, Dictionary<string, string>> _children = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<string, string> _spelled = new(StringComparer.OrdinalIgnoreCase);

    private KeySpelling(IConfigurationRoot root) =>
        // The files first: the command line and the DOTNET_ variables are read before them, as the host's own settings.
        _sources = [.. root.Providers.OfType<FileConfigurationProvider>(), .. root.Providers.Where(source => source is not FileConfigurationProvider)];

    /// <summary>Every setting of <paramref name="root"/>, its value as the configuration merged it, its key spelled so.</summary>
    public static IEnumerable<KeyValuePair<string, string?>> Respelled(IConfigurationRoot root)
    {
        var spelling = new KeySpelling(root);
        foreach (var (key, value) in root.AsEnumerable())
        {
            yield return new(spelling.Spell(key), value);
        }
    }

    /// <summary>The names of a section's children, spelled so (as a plain <see cref="IConfiguration"/> has them, if it is not a root).</summary>
    public static IEnumerable<string> ChildNames(IConfiguration configuration, string path)
    {
        var names = configuration.GetSection(path).GetChildren().Select(child => child.Key);
        if (configuration is not IConfigurationRoot root)
        {
            return names;
        }

        var spelling = new KeySpelling(root);
        var spelled = spelling.ChildrenOf(path);
        return [.. names.Select(name => spelled.GetValueOrDefault(name, name))];
    }

    private string Spell(string path)
    {
        if (_spelled.TryGetValue(path, out var known))
        {
            return known;
        }

        var cut = path.LastIndexOf(':');
        var parent = cut < 0 ? null : path[..cut];
        var name = path[(cut + 1)..];
        var spelling = ChildrenOf(parent).GetValueOrDefault(name, name);
        return _spelled[path] = parent is null ? spelling : $"{Spell(parent)}:{spelling}";
    }

    /// <summary>A section's children, name (any case) → spelling, the first source's kept.</summary>
    private Dictionary<string, string> ChildrenOf(string? parent)
    {
        // The root apart from a section named "" (a key such as ":x"), which has children of its own.
        var cacheKey = parent is null ? "\0root" : parent;
        if (!_children.TryGetValue(cacheKey, out var names))
        {
            names = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
            foreach (var source in _sources)
            {
                foreach (var child in source.GetChildKeys([], parent))
                {
                    names.TryAdd(child, child);
                }
            }

            _children[cacheKey] = names;
        }

        return names;
    }
}
