using System.Net;
using Gateway.Hosting;
using Microsoft.Extensions.Options;

namespace Gateway.Providers;

/// <summary>
/// Warns at start-up of an OpenAI-compatible provider off this machine that has no API key: a hosted API (the shipped
/// <c>openai</c> provider, before its key is set) refuses every call, and its callers learn of it only as a 502.
/// Servers on loopback (Ollama, LM Studio, llama.cpp) take no key, and are left alone.
/// </summary>
internal sealed partial class ProviderKeyCheck(IOptions<RoutingOptions> options, ILogger<ProviderKeyCheck> logger) : IStartupPreparation
{
    public Task PrepareAsync(CancellationToken cancellationToken)
    {
        foreach (var (name, provider) in options.Value.Providers)
        {
            if (provider.Type == ProviderOptions.OpenAiType && string.IsNullOrEmpty(provider.ApiKey)
                && Uri.TryCreate(provider.BaseUrl, UriKind.Absolute, out var root) && !IsThisMachine(root))
            {
                LogNoKey(logger, name, root.GetLeftPart(UriPartial.Authority));
            }
        }

        return Task.CompletedTask;
    }

    private static bool IsThisMachine(Uri root) =>
        root.IsLoopback || (IPAddress.TryParse(root.Host.Trim('[', ']'), out var address) && Security.Loopback.IsLoopback(address));

    [LoggerMessage(Level = LogLevel.Warning,
        Message = "Provider '{Provider}' ({Host}) has no API key: a hosted API refuses every call without one. Set Gateway:Providers:{Provider}:ApiKey, or ignore this if that server takes none.")]
    private static partial void LogNoKey(ILogger logger, string provider, string host);
}
