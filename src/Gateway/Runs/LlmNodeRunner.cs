using System.Text;
using Gateway.Flows;
using Gateway.Providers;
using Gateway.Security;
using Gateway.Telemetry;
using Microsoft.Extensions.AI;

namespace Gateway.Runs;

/// <summary>
/// Streams one llm node's completion through the router, handing each token on as it arrives; the node's
/// output is exactly those tokens concatenated. Each call draws on the owner key's token budget (settled with the
/// real usage) and is recorded like a /v1 call: metrics, a span, the summary log line.
/// </summary>
internal sealed class LlmNodeRunner(ModelRouter router, RoutedChat chat, TokenBudgets budgets, CallTelemetry telemetry)
{
    /// <param name="node">The llm node.</param>
    /// <param name="system">Its system message, rendered; null when it has none.</param>
    /// <param name="user">Its user message: the output of the node its <c>prompt</c> names.</param>
    /// <param name="trace">Its attempts, for the record and the retry events.</param>
    /// <param name="owner">The key that started the run: its token budget pays.</param>
    /// <param name="modelText">What the run's llm nodes may still send and receive.</param>
    /// <param name="onToken">Each token, as it arrives; the call reads on once it completes (the run's backlog has room).</param>
    /// <param name="onStreaming">
    /// Told, at the call's first token, what it has spent so far (its prompt, estimated): saved with the run, so that a
    /// run cut off with its process still shows the node's route and spend.
    /// </param>
    /// <param name="onCut">
    /// Told what a call that ends without an outcome (cancelled, or failed after its first token, or failed before it
    /// after attempts lost while thinking) was counted with, so that its node's record shows it as the key's budget and
    /// the metrics count it; not told when it spent nothing.
    /// </param>
    /// <param name="cancellationToken">The run's: cancelling it aborts the upstream call.</param>
    public async Task<NodeOutcome> RunAsync(
        FlowNode node, string? system, string user, RouteTrace trace, string owner, TextBudget modelText, Func<string, Task> onToken,
        Action<TokenUsage> onStreaming, Action<TokenUsage> onCut, CancellationToken cancellationToken)
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
            StopSequences = Providers.StopSequences.Usable(node.Stop),
        };

        if (!modelText.TryDraw(user.Length))
        {
            throw new ModelTextTooLargeException();
        }

        var tokens = await budgets.ReserveAsync(owner, [system, user], node.MaxTokens, cancellationToken);
        if (!tokens.IsGranted)
        {
            throw new UpstreamException(
                UpstreamFailure.Status,
                $"The API key's TokensPerMinute is used up; retry in {Math.Ceiling(tokens.RetryAfter.TotalSeconds)} s.",
                System.Net.HttpStatusCode.TooManyRequests)
            { Reason = NodeErrors.TokenLimitReason, RetryAfter = tokens.RetryAfter };
        }

        var recorder = telemetry.Begin(Surfaces.Runs, owner, route, trace, messages);
        var output = new StringBuilder();
        ChatFinishReason? finishReason = null;
        UsageDetails? usage = null;
        var outputChunks = 0L;
        var ended = false; // with an outcome, or with nothing spent: either way, not a cut call to report
        try
        {
            await foreach (var update in chat.StreamAsync(route, messages, options, trace, cancellationToken))
            {
                finishReason ??= update.FinishReason;
                usage = UpdateContents.Of(update) ?? usage;

                var text = update.Text;
                if (text.Length > 0 && !modelText.TryDraw(text.Length))
                {
                    // Leaving the loop disposes the stream, which aborts the upstream call.
                    throw new ModelTextTooLargeException();
                }

                // A reasoning model's thinking is not the node's output, but tokens its key pays for.
                if (text.Length == 0 && UpdateContents.Reasoning(update).Length == 0)
                {
                    continue;
                }

                if (outputChunks++ == 0)
                {
                    recorder.FirstToken();
                    var soFar = recorder.Counted(null, 0); // the prompt's estimate, and what attempts lost while thinking spent
                    onStreaming(Priced(route, soFar.InputTokenCount ?? 0, soFar.OutputTokenCount ?? 0));
                }

                if (text.Length > 0)
                {
                    output.Append(text);
                    await onToken(text);
                }
            }

            ended = true;
        }
        // The abort of a cancelled run can surface as the upstream's failure (a connection cut, an error body cut short).
        catch (Exception exception) when (exception is OperationCanceledException or UpstreamException && cancellationToken.IsCancellationRequested)
        {
            recorder.Cancelled(outputChunks, usage);
            throw;
        }
        catch (ModelTextTooLargeException)
        {
            recorder.Failed(Outcomes.StreamError, NodeErrors.ModelTextTooLargeCode, outputChunks, usage);
            throw;
        }
        catch (UpstreamException exception)
        {
            recorder.Failed(outputChunks == 0 ? Outcomes.Error : Outcomes.StreamError, NodeErrors.FromUpstream(exception, route.Alias).Code, outputChunks, usage);
            if (outputChunks == 0 && recorder.LostTokens == 0)
            {
                // The model answered nothing, and no attempt thought: nothing was spent. (As on /v1.)
                tokens.Settle(0);
                ended = true;
            }

            throw;
        }
        catch
        {
            // A failure of the gateway's own (the node fails internal_error): counted and logged like any other call.
            recorder.Failed(outputChunks == 0 ? Outcomes.Error : Outcomes.StreamError, NodeErrors.Internal, outputChunks, usage);
            throw;
        }
        finally
        {
            // A call cancelled or broken mid-stream has no usage: it pays for what was seen of it (TokenReservation.SettleCut).
            // Attempts that failed while their model thought are paid for too (RouteTrace.ThinkingTokensLost).
            if (usage is not null)
            {
                tokens.Settle((usage.InputTokenCount ?? 0) + (usage.OutputTokenCount ?? 0) + recorder.LostTokens);
            }
            else if (!ended && outputChunks == 0 && recorder.LostTokens > 0)
            {
                tokens.Settle(recorder.LostTokens);
            }
            else
            {
                tokens.SettleCut(outputChunks + recorder.LostTokens);
            }

            if (!ended && (usage is not null || outputChunks > 0 || recorder.LostTokens > 0))
            {
                var spent = usage is null && outputChunks == 0 ? recorder.LostOnly : recorder.Counted(usage, outputChunks);
                onCut(Priced(route, spent.InputTokenCount ?? 0, spent.OutputTokenCount ?? 0));
            }
        }

        // For a provider that reports no usage, what the call was counted with: the record and /api/usage agree with
        // the key's budget and the metrics.
        var counted = recorder.Counted(usage, outputChunks);
        recorder.Succeeded(counted, recorder.CapturesContent ? output.ToString() : null);
        var nodeUsage = Priced(route, counted.InputTokenCount ?? 0, counted.OutputTokenCount ?? 0);
        // RoutedChat fails a stream that ends without a finish reason.
        return new NodeOutcome(output.ToString(), finishReason!.Value.Value, nodeUsage);
    }

    private static TokenUsage Priced(ModelRoute route, long input, long output) => new(input, output, route.Pricing?.CostUsd(input, output));
}

/// <summary>An llm node's user message or output would pass its run's <see cref="FlowLimits.MaxModelTextChars"/>.</summary>
internal sealed class ModelTextTooLargeException : Exception;
