using Gateway.Hosting;
using Gateway.Resilience;
using Microsoft.Extensions.Options;

namespace Gateway.Providers;

/// <summary>
/// Warns at start-up of a first-token clock no shorter than the total timeout that bounds its deployment's call (the
/// route's first provider's, see <see cref="RoutedChat"/>). The total timeout then ends the call first: a stall there is
/// never retried or fallen back from, and the caller reads "total timeout" where the operator set a first-token clock.
/// Not refused: a single-deployment model that may think for as long as the call may last is a choice, and the check
/// only says what it costs. Said once per setting, named as the operator wrote it (a deployment's own, its provider's,
/// or the gateway's), not once per deployment that inherits it; simulated deployments, which never stall, are left out.
/// </summary>
internal sealed partial class DeploymentClockCheck(
    IOptions<RoutingOptions> routing, IOptionsMonitor<ResilienceOptions> resilience, IConfiguration configuration, ILogger<DeploymentClockCheck> logger)
    : IStartupPreparation
{
    public Task PrepareAsync(CancellationToken cancellationToken)
    {
        var said = new HashSet<(string, double)>();
        foreach (var (alias, model) in routing.Value.Models)
        {
            if (model.Deployments.Count == 0)
            {
                continue;
            }

            var total = resilience.Get(ModelRouter.ConfiguredName(routing.Value, model.Deployments[0].Provider)).TotalTimeoutSeconds;
            for (var i = 0; i < model.Deployments.Count; i++)
            {
                var deployment = model.Deployments[i];
                var providerName = ModelRouter.ConfiguredName(routing.Value, deployment.Provider);
                if (routing.Value.Providers.GetValueOrDefault(providerName)?.Type == ProviderOptions.SimulatedType)
                {
                    continue;
                }

                var (firstToken, setting) = ClockOf(alias, i, deployment, providerName);
                if (firstToken >= total && said.Add((setting, total)))
                {
                    LogClockPastTotal(logger, setting, firstToken, total, alias, i, providerName);
                }
            }
        }

        return Task.CompletedTask;
    }

    /// <summary>The deployment's first-token clock, and the setting it comes from.</summary>
    private (double Seconds, string Setting) ClockOf(string alias, int index, DeploymentOptions deployment, string provider)
    {
        if (deployment.FirstTokenTimeoutSeconds is { } own)
        {
            return (own, $"Gateway:Models:{alias}:Deployments:{index}:FirstTokenTimeoutSeconds");
        }

        var providers = $"Gateway:Providers:{provider}:Resilience:{nameof(ResilienceOptions.FirstTokenTimeoutSeconds)}";
        var gateways = $"{ResilienceOptions.Section}:{nameof(ResilienceOptions.FirstTokenTimeoutSeconds)}";
        var setting = configuration[providers] is not null ? providers : configuration[gateways] is not null ? gateways : $"the default {gateways}";
        return (resilience.Get(provider).FirstTokenTimeoutSeconds, setting);
    }

    [LoggerMessage(Level = LogLevel.Warning,
        Message = "{Setting} ({FirstTokenSeconds} s) is no shorter than the total timeout of {TotalSeconds} s that bounds model '{Alias}' (deployment {Index}, {Provider}): the total timeout ends such a call first, so a stall before its first token is never retried or fallen back from. Set it below the total.")]
    private static partial void LogClockPastTotal(
        ILogger logger, string setting, double firstTokenSeconds, double totalSeconds, string alias, int index, string provider);
}
