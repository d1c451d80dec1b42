using System.Text.RegularExpressions;

namespace Gateway.Hosting;

/// <summary>
/// A configuration value as a start-up message quotes it: enough to see a typo (<c>'opnai'</c>), never a secret. A
/// URL's credentials and query (<c>https://user:sk-...@host</c>, <c>?api-key=...</c>) are masked, and a long value that
/// is not a URL, most likely a key pasted under the wrong setting, is not shown at all.
/// </summary>
internal static partial class ConfigValue
{
    private const int LongestShown = 40;

    public static string Quoted(string? value)
    {
        if (value is null)
        {
            return "nothing";
        }

        if (value.Contains("://", StringComparison.Ordinal))
        {
            return $"'{Query().Replace(Credentials().Replace(value, "://***@"), "?***")}'";
        }

        return value.Length > LongestShown ? $"a value of {value.Length} characters, not shown" : $"'{value}'";
    }

    [GeneratedRegex("://[^/?#]*@")]
    private static partial Regex Credentials();

    [GeneratedRegex(@"\?.*$", RegexOptions.Singleline)]
    private static partial Regex Query();
}
