namespace Gateway.Providers;

internal static class StopSequences
{
    /// <summary>
    /// The sequences a model can stop at: an empty one stops nothing (and some servers refuse it), so it is left out
    /// and the others kept. Null when none is left.
    /// </summary>
    public static List<string>? Usable(IEnumerable<string>? stops) =>
        stops?.Where(stop => stop.Length > 0).ToList() is { Count: > 0 } usable ? usable : null;
}
