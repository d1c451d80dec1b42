using Gateway.Providers.OpenAI;
using Gateway.Providers.Simulated;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Options;

namespace Gateway.Providers;

/// <summary>One <see cref="IChatClient"/> per configured provider, built once at start-up.</summary>
internal sealed class ProviderRegistry
{
    private readonly Dictionary<string, IChatClient> _clients = new(StringComparer.OrdinalIgnoreCase);

    public ProviderRegistry(IOptions<RoutingOptions> options, IHttpClientFactory httpClientFactory, TimeProvider timeProvider)
    {
        foreach (var (name, provider) in options.Value.Providers)
        {
            _clients[name] = provider.Type switch
            {
                ProviderOptions.SimulatedType => new SimulatedChatClient(name, TimeSpan.FromMilliseconds(provider.TokenDelayMs), timeProvider),
                _ => new OpenAiChatClient(name, provider, httpClientFactory.CreateClient(HttpClientName(name))),
            };
        }
    }

    /// <summary>The name of the <see cref="HttpClient"/> that carries a provider's traffic.</summary>
    public static string HttpClientName(string providerName) => "provider:" + providerName;

    public IChatClient Get(string providerName) => _clients[providerName];
}
