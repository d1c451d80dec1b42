using System.Globalization;

namespace Bench.Upstream;

/// <summary>
/// What the simulator streams: <c>--port</c>, <c>--tokens</c>, <c>--token-delay-ms</c>, <c>--first-token-delay-ms</c>,
/// and <c>--token-timer</c>: <c>precise</c> (the default: each stream on its own schedule, see <see cref="TokenClock"/>)
/// or <c>coarse</c> (<see cref="Task.Delay(TimeSpan)"/>, as before 2026-12-05: every stream's tokens on the same
/// 4 ms tick, in bursts).
/// </summary>
internal sealed record SimulatorSettings(int Port, int Tokens, TimeSpan TokenDelay, TimeSpan FirstTokenDelay, bool CoarseTimer)
{
    /// <summary>The shortest wait a stream makes: how far ahead of its due time any wait is added.</summary>
    public TimeSpan ShortestDelay =>
        FirstTokenDelay > TimeSpan.Zero && FirstTokenDelay < TokenDelay ? FirstTokenDelay : TokenDelay;

    public static SimulatorSettings FromArgs(string[] args)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i + 1 < args.Length; i += 2)
        {
            values[args[i]] = args[i + 1];
        }

        int Read(string name, int fallback) =>
            values.TryGetValue(name, out var text) ? int.Parse(text, CultureInfo.InvariantCulture) : fallback;

        return new SimulatorSettings(
            Read("--port", 9001),
            Read("--tokens", 20),
            TimeSpan.FromMilliseconds(Read("--token-delay-ms", 5)),
            TimeSpan.FromMilliseconds(Read("--first-token-delay-ms", 0)),
            (values.GetValueOrDefault("--token-timer") ?? "precise") switch
            {
                "precise" => false,
                "coarse" => true,
                var other => throw new ArgumentException($"--token-timer is precise or coarse, not {other}."),
            });
    }
}
