using System.Text;
using Gateway.Flows;
using Gateway.Providers;
using Microsoft.Extensions.AI;

namespace Gateway.Runs;

/// <summary>
/// Streams one llm node's completion through the router, handing each token on as it arrives; the node's
/// output is exactly those tokens concatenated.
/// </summary>
internal sealed class LlmNodeRunner(ModelRouter router, RoutedChat chat)
{
    public async Task<NodeOutcome> RunAsync(
        FlowNode node, string? system, string user, RouteTrace trace, Action<string> onToken, CancellationToken cancellationToken)
    {
        if (!router.TryGetRoute(node.Model!, out var route))
        {
            throw new InvalidOperationException($"Model alias '{node.Model}' vanished after the flow was validated.");
        }

        List<ChatMessage> messages = system is null
            ? [new ChatMessage(ChatRole.User, user)]
            : [new ChatMessage(ChatRole.System, system), new ChatMessage(ChatRole.User, user)];
        var options = new ChatOptions
        {
            Temperature = (float?)node.Temperature,
            TopP = (float?)node.TopP,
            MaxOutputTokens = node.MaxTokens,
            StopSequences = node.Stop is null ? null : [.. node.Stop],
        };

        var output = new StringBuilder();
        ChatFinishReason? finishReason = null;
        TokenUsage? usage = null;
        await foreach (var update in chat.StreamAsync(route, messages, options, trace, cancellationToken))
        {
            finishReason ??= update.FinishReason;
            foreach (var content in update.Contents)
            {
                if (content is UsageContent { Details: var details })
                {
                    usage = new TokenUsage(details.InputTokenCount ?? 0, details.OutputTokenCount ?? 0);
                }
            }

            var text = update.Text;
            if (text.Length > 0)
            {
                output.Append(text);
                onToken(text);
            }
        }

        // A stream that stops without saying why was cut off; its text must not pass for a whole answer.
        if (finishReason is null)
        {
            throw new UpstreamException(UpstreamFailure.Protocol, "The upstream stream ended without a finish reason.");
        }

        return new NodeOutcome(output.ToString(), finishReason.Value.Value, usage);
    }
}
