using System.Text.RegularExpressions;

namespace Gateway.Runs;

/// <summary>The shape of a run's id: <c>run-</c> and 32 hex digits, made once per run.</summary>
internal static partial class RunIds
{
    public static string New() => "run-" + Guid.NewGuid().ToString("N");

    /// <summary>Whether <paramref name="text"/> has the shape of an id this gateway makes (safe to echo in a header).</summary>
    public static bool IsWellFormed(string text) => Shape().IsMatch(text);

    [GeneratedRegex("^run-[0-9a-f]{32}$")]
    private static partial Regex Shape();
}
