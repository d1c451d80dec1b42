using System.ComponentModel;
using System.Reflection;

namespace Gateway.Hosting;

/// <summary>
/// Finds what the configuration binder passes over in silence, by walking a section against the type it binds to.
/// The binder drops a list or dictionary entry it cannot convert (<c>"RequestsPerMinute": "60/min"</c> takes the whole
/// key with it, and with the last key gone the gateway serves anonymously), binds a single value where a list belongs
/// (<c>"Models": "echo"</c>) as an empty list, meaning every model, and ignores a key no setting has
/// (<c>RequestPerMinute</c>: no limit at all). Each problem names its configuration path. A value is never quoted:
/// some are secrets.
/// </summary>
internal static class ConfigurationShape
{
    /// <summary>
    /// Adds a line to <paramref name="problems"/> for every key under <paramref name="section"/> that binding to
    /// <paramref name="type"/> would lose. <paramref name="boundElsewhere"/> names the type of a key that a setting
    /// class does not have but that is bound on its own (a provider's <c>Resilience</c>, say).
    /// </summary>
    public static void Check(IConfigurationSection section, Type type, List<string> problems, Func<Type, string, Type?>? boundElsewhere = null)
    {
        if (IsSingleValue(type))
        {
            CheckSingleValue(section, type, problems);
        }
        else if (EntryTypeOf(type) is { } entryType)
        {
            if (!string.IsNullOrEmpty(section.Value))
            {
                // As an environment variable, a list is one variable per entry: Gateway__Cors__AllowedOrigins__0=...
                problems.Add($"{section.Path} must be a list or a section of entries, not a single value (as environment variables: {section.Path.Replace(":", "__", StringComparison.Ordinal)}__0=..., __1=...).");
            }

            foreach (var entry in section.GetChildren())
            {
                Check(entry, entryType, problems, boundElsewhere);
            }
        }
        else
        {
            if (!string.IsNullOrEmpty(section.Value))
            {
                problems.Add($"{section.Path} must be a section of settings, not a single value.");
            }

            foreach (var child in section.GetChildren())
            {
                if (SettingOf(type, child.Key) is { } setting)
                {
                    Check(child, setting, problems, boundElsewhere);
                }
                else if (boundElsewhere?.Invoke(type, child.Key) is { } separate)
                {
                    Check(child, separate, problems, boundElsewhere);
                }
                else
                {
                    problems.Add($"{child.Path} is not a setting the gateway knows (misspelled?).");
                }
            }
        }
    }

    private static void CheckSingleValue(IConfigurationSection section, Type type, List<string> problems)
    {
        if (section.GetChildren().Any())
        {
            problems.Add($"{section.Path} must be a single value, not a section.");
            return;
        }

        var value = section.Value;
        var nullable = Nullable.GetUnderlyingType(type);
        if (value is null || type == typeof(string) || (nullable is not null && value.Length == 0))
        {
            return;
        }

        // Converters report a value they cannot read as any of these (numbers wrap theirs in ArgumentException).
        try
        {
            TypeDescriptor.GetConverter(nullable ?? type).ConvertFromInvariantString(value);
        }
        catch (Exception exception) when (exception is FormatException or ArgumentException or NotSupportedException or OverflowException)
        {
            // "99999999999" is a whole number, only not one an int holds: said so, rather than that it is not one.
            problems.Add(exception is OverflowException || exception.InnerException is OverflowException
                ? $"{section.Path} is out of range for its setting."
                : $"{section.Path} must be {Describe(nullable ?? type)}.");
        }
    }

    private static bool IsSingleValue(Type type) =>
        type == typeof(string) || TypeDescriptor.GetConverter(type).CanConvertFrom(typeof(string));

    /// <summary>The type of a list's items or a dictionary's values; null for a class of settings.</summary>
    private static Type? EntryTypeOf(Type type)
    {
        if (type.IsArray)
        {
            return type.GetElementType();
        }

        if (!type.IsGenericType)
        {
            return null;
        }

        var definition = type.GetGenericTypeDefinition();
        var arguments = type.GetGenericArguments();
        if (arguments.Length == 2 && (definition == typeof(Dictionary<,>) || definition == typeof(IDictionary<,>) || definition == typeof(IReadOnlyDictionary<,>)))
        {
            return arguments[1];
        }

        return arguments.Length == 1 && typeof(System.Collections.IEnumerable).IsAssignableFrom(type) ? arguments[0] : null;
    }

    /// <summary>The type of the property a key binds to, as the binder finds it (case aside); null when none does.</summary>
    private static Type? SettingOf(Type type, string key)
    {
        var property = type.GetProperty(key, BindingFlags.Public | BindingFlags.Instance | BindingFlags.IgnoreCase);
        if (property is null || property.GetIndexParameters().Length > 0)
        {
            return null;
        }

        // A property without a setter still binds when it holds a section the binder can fill in place.
        return property.SetMethod is { IsPublic: true } || !IsSingleValue(property.PropertyType) ? property.PropertyType : null;
    }

    /// <summary>What a value of <paramref name="type"/> must be, in an operator's words: "a whole number", "true or false".</summary>
    internal static string Describe(Type type) =>
        type == typeof(bool) ? "true or false"
        : type == typeof(int) || type == typeof(long) || type == typeof(short) ? "a whole number"
        : type == typeof(double) || type == typeof(float) || type == typeof(decimal) ? "a number"
        : type == typeof(Uri) ? "a URL"
        : type.IsEnum ? $"one of {string.Join(", ", Enum.GetNames(type))}"
        : $"a {type.Name}";
}
