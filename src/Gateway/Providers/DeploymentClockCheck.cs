using Gateway.Hosting;
using Gateway.Resilience;
using Microsoft.Extensions.Options;

namespace Gateway.Providers;

/// <summary>
/// Warns at start-up of a deployment whose first-token clock is no shorter than the total timeout that bounds its
/// call (the route's first provider's, see <see cref="RoutedChat"/>). The total timeout then ends the call first: a
/// stall there is never retried or fallen back from, and the caller reads "total timeout" where the operator set a
/// first-token clock. Not refused: a single-deployment model that may think for as long as the call may last is a
/// choice, and the check only says what it costs.
/// </summary>
internal sealed partial class DeploymentClockCheck(
    IOptions<RoutingOptions> routing, IOptionsMonitor<ResilienceOptions> resilience, ILogger<DeploymentClockCheck> logger) : IStartupPreparation
{
    public Task PrepareAsync(CancellationToken cancellationToken)
    {
        foreach (var (alias, model) in routing.Value.Models)
        {
            if (model.Deployments.Count == 0)
            {
                continue;
            }

            var total = resilience.Get(model.Deployments[0].Provider).TotalTimeoutSeconds;
            for (var i = 0; i < model.Deployments.Count; i++)
            {
                var deployment = model.Deployments[i];
                var firstToken = deployment.FirstTokenTimeoutSeconds ?? resilience.Get(deployment.Provider).FirstTokenTimeoutSeconds;
                if (firstToken >= total)
                {
                    LogClockPastTotal(logger, alias, i, deployment.Provider, firstToken, total);
                }
            }
        }

        return Task.CompletedTask;
    }

    [LoggerMessage(Level = LogLevel.Warning,
        Message = "Model '{Alias}' deployment {Index} ({Provider}) waits up to {FirstTokenSeconds} s for its first token, no less than the call's total timeout of {TotalSeconds} s: the total timeout ends the call first, so a stall there is never retried or fallen back from. Set its FirstTokenTimeoutSeconds below the total.")]
    private static partial void LogClockPastTotal(ILogger logger, string alias, int index, string provider, double firstTokenSeconds, double totalSeconds);
}
