namespace Gateway.Providers;

/// <summary>One upstream, bound from <c>Gateway:Providers:{name}</c>.</summary>
internal sealed class ProviderOptions
{
    public const string SimulatedType = "simulated";
    public const string OpenAiType = "openai";

    /// <summary><c>openai</c> (any OpenAI-compatible server) or <c>simulated</c>.</summary>
    public string Type { get; set; } = "";

    /// <summary>The API root, e.g. <c>https://api.openai.com/v1</c>. Required for <c>openai</c>.</summary>
    public string? BaseUrl { get; set; }

    /// <summary>Sent as a bearer token; never returned or logged. Empty for servers that need none.</summary>
    public string? ApiKey { get; set; }

    /// <summary>Simulated only: the pause before each token.</summary>
    public int TokenDelayMs { get; set; } = 20;
}
