using System.Text.RegularExpressions;

namespace Gateway.Flows;

internal static partial class FlowIds
{
    public const string Rule = "must be 1 to 64 letters, digits, '_' or '-'";

    private const string Id = "[A-Za-z0-9_-]{1,64}";

    /// <summary>The rule as the OpenAPI document states it (JSON Schema's <c>$</c> is the end of the string).</summary>
    public const string Pattern = "^" + Id + "$";

    // \z, not $: .NET's $ also matches before a final newline, and an id ending in one would pass, be stored, and
    // then break the Location header and the log lines it goes into.
    [GeneratedRegex("^" + Id + @"\z")]
    private static partial Regex IdRegex();

    public static bool IsValid(string? id) => id is not null && IdRegex().IsMatch(id);

    /// <summary>An id for a flow saved without one.</summary>
    public static string NewFlowId() => "flow-" + Guid.NewGuid().ToString("N")[..12];
}
