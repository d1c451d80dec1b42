using System.Globalization;

namespace Bench.Upstream;

/// <summary>What the simulator streams: <c>--port</c>, <c>--tokens</c>, <c>--token-delay-ms</c>, <c>--first-token-delay-ms</c>.</summary>
internal sealed record SimulatorSettings(int Port, int Tokens, TimeSpan TokenDelay, TimeSpan FirstTokenDelay)
{
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
            TimeSpan.FromMilliseconds(Read("--first-token-delay-ms", 0)));
    }
}
