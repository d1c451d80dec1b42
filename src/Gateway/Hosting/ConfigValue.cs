using System.Text.RegularExpressions;

namespace Gateway.Hosting;

/// <summary>
/// A configuration value as a start-up message quotes it: enough to see a typo (<c>'opnai'</c>), never a secret. A
/// URL's credentials, query and fragment (<c>https://user:sk-...@host</c>, <c>?api-key=...</c>) are masked, and a value
/// that is not a URL but is long or shaped like a key, most likely a key pasted under the wrong setting, is not shown.
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
            return $"'{QueryOrFragment().Replace(Credentials().Replace(value, "://***@"), "***")}'";
        }

        return value.Length > LongestShown || LooksLikeAKey().IsMatch(value) ? $"a value of {value.Length} characters, not shown" : $"'{value}'";
    }

    /// <summary>Up to the last <c>@</c>: a password may hold a <c>/</c> (over-masking a path with an <c>@</c> is the safe side).</summary>
    [GeneratedRegex("://[^@]*@")]
    private static partial Regex Credentials();

    [GeneratedRegex(@"[?#].*$", RegexOptions.Singleline)]
    private static partial Regex QueryOrFragment();

    /// <summary>20 or more letters and digits (with - or _) in one word, digits among them: an API key's shape (Azure's: 32 hex).</summary>
    [GeneratedRegex("^(?=.*[0-9])(?=.*[A-Za-z])[A-Za-z0-9_-]{20,}$")]
    private static partial Regex LooksLikeAKey();
}
