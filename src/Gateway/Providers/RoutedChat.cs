using System.Runtime.CompilerServices;
using Microsoft.Extensions.AI;

namespace Gateway.Providers;

/// <summary>
/// Sends a chat request to an alias: to its first deployment, under the deployment's own model name.
/// This is where retries and fallback across deployments happen once the first token is peeked.
/// </summary>
internal sealed partial class RoutedChat(ILogger<RoutedChat> logger)
{
    public async IAsyncEnumerable<ChatResponseUpdate> StreamAsync(
        ModelRoute route,
        IReadOnlyList<ChatMessage> messages,
        ChatOptions options,
        RouteTrace? trace,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var deployment = route.Deployments[0];
        LogRouting(logger, route.Alias, deployment.Provider, deployment.Model);
        if (trace is not null)
        {
            trace.Attempts = 1;
            trace.Deployment = deployment;
        }

        var deploymentOptions = ForDeployment(options, deployment);
        await foreach (var update in deployment.Client.GetStreamingResponseAsync(messages, deploymentOptions, cancellationToken).ConfigureAwait(false))
        {
            yield return update;
        }
    }

    public Task<ChatResponse> CompleteAsync(
        ModelRoute route, IReadOnlyList<ChatMessage> messages, ChatOptions options, RouteTrace? trace, CancellationToken cancellationToken)
    {
        var deployment = route.Deployments[0];
        LogRouting(logger, route.Alias, deployment.Provider, deployment.Model);
        if (trace is not null)
        {
            trace.Attempts = 1;
            trace.Deployment = deployment;
        }

        return deployment.Client.GetResponseAsync(messages, ForDeployment(options, deployment), cancellationToken);
    }

    private static ChatOptions ForDeployment(ChatOptions options, Deployment deployment)
    {
        var copy = options.Clone();
        copy.ModelId = deployment.Model;
        return copy;
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Routing {Alias} to {Provider}/{Model}")]
    private static partial void LogRouting(ILogger logger, string alias, string provider, string model);
}
