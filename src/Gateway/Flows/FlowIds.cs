using System.Text.RegularExpressions;

namespace Gateway.Flows;

internal static partial class FlowIds
{
    public const string Rule = "must be 1 to 64 letters, digits, '_' or '-'";

    public const string Pattern = "^[A-Za-z0-9_-]{1,64}$";

    [GeneratedRegex(Pattern)]
    private static partial Regex IdRegex();

    public static bool IsValid(string? id) => id is not null && IdRegex().IsMatch(id);

    /// <summary>An id for a flow saved without one.</summary>
    public static string NewFlowId() => "flow-" + Guid.NewGuid().ToString("N")[..12];
}
