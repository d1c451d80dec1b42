namespace Gateway.Storage;

/// <summary>
/// Whose store writes the code under way makes: the API key whose run it executes, or "" for the gateway's own
/// (flows, pruning, leases). SQLite's single writer takes lanes in turn (<see cref="FairWriteGate"/>). Ambient, like a
/// log scope: entered around the loop that drives a run, it reaches every write of the run, its nodes' included,
/// without each store call carrying the key.
/// </summary>
internal static class StoreWriteLane
{
    private static readonly AsyncLocal<string?> CurrentLane = new();

    /// <summary>The lane of the writes made here.</summary>
    public static string Current => CurrentLane.Value ?? "";

    /// <summary>Makes the writes under the returned scope <paramref name="lane"/>'s, until it is disposed.</summary>
    public static Scope Enter(string lane)
    {
        var outer = CurrentLane.Value;
        CurrentLane.Value = lane;
        return new Scope(outer);
    }

    public readonly struct Scope(string? outer) : IDisposable
    {
        public void Dispose() => CurrentLane.Value = outer;
    }
}
