namespace Gateway.Providers.Simulated;

internal static class SimulatedModels
{
    /// <summary>Streams the last user message back word by word, whitespace kept.</summary>
    public const string Echo = "echo";

    /// <summary>Streams <c>max_tokens</c> (default 50) lorem-ipsum words.</summary>
    public const string Lorem = "lorem";

    public const int DefaultLoremWords = 50;

    public static readonly string[] All = [Echo, Lorem];

    public static bool IsKnown(string model) => model is Echo or Lorem;
}
