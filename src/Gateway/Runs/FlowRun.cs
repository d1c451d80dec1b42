using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Gateway.Flows;
using Gateway.Providers;
using Gateway.Telemetry;

namespace Gateway.Runs;

/// <summary>
/// One run of a flow. Every node is a task that waits for the nodes it depends on and then runs, so independent
/// nodes run at the same time; their events meet in one channel and leave in the order they happened.
/// Knows nothing of HTTP or storage: it yields DESIGN §5 events, always ending with exactly one terminal event.
/// </summary>
/// <param name="plan">What to run.</param>
/// <param name="state">The run's record as it evolves.</param>
/// <param name="owner">The name of the API key that started the run: its token budget pays for the model calls.</param>
/// <param name="llm">Runs llm nodes.</param>
/// <param name="timeProvider">The clock.</param>
/// <param name="logger">The run's logger.</param>
internal sealed class FlowRun(RunPlan plan, RunState state, string owner, LlmNodeRunner llm, TimeProvider timeProvider, ILogger logger)
{
    /// <summary>What the run's templates may still render.</summary>
    private readonly TextBudget _rendered = new(FlowLimits.MaxRenderedChars);

    /// <summary>What the run's llm nodes may still send as user messages and receive as output.</summary>
    private readonly TextBudget _modelText = new(FlowLimits.MaxModelTextChars);

    /// <summary>Where the nodes' events meet, while the run executes.</summary>
    private Channel<RunEvent>? _events;

    public string RunId => state.RunId;

    public string? FlowId => state.FlowId;

    /// <summary>The name of the API key that started the run.</summary>
    public string Owner => owner;

    public RunRecord Snapshot() => state.Snapshot();

    /// <summary>
    /// Whether the nodes have sent an event <see cref="ExecuteAsync"/> has not yielded yet. For the reader of
    /// <see cref="ExecuteAsync"/> alone, between two of its reads: the channel has one reader.
    /// </summary>
    public bool HasEventsWaiting => _events?.Reader.TryPeek(out _) is true;

    /// <summary>
    /// The most token events waiting for the store at once. A model that sends faster than the store takes events
    /// (tokens with no delay, a slow disk) is read only as fast as they are stored: an unbounded backlog grew by
    /// hundreds of thousands of events, and held the run's end behind it past the shutdown drain.
    /// </summary>
    private const int TokenBacklog = 1024;

    /// <summary>What an interrupted run's error says when its gateway shut down while it ran.</summary>
    public const string ShutDown = "The gateway shut down before the run finished.";

    /// <summary>Whether a cancel may still end the run (<see cref="RunState.TryAcceptCancel"/>).</summary>
    public bool TryAcceptCancel(string reason) => state.TryAcceptCancel(reason);

    /// <summary>Marks the run as stopped by the gateway, before its cancellation: it then ends <c>interrupted</c>.</summary>
    public void Interrupt() => state.Interrupt(new RunError("interrupted", ShutDown, null));

    /// <summary>Runs the flow. Cancelling <paramref name="cancellationToken"/> aborts the model calls; the run then ends with <c>run.cancelled</c>.</summary>
    public async IAsyncEnumerable<RunEvent> ExecuteAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        yield return new RunStartedEvent(RunId, FlowId);

        var events = _events = Channel.CreateUnbounded<RunEvent>(new UnboundedChannelOptions { SingleReader = true });
        using var backlog = new SemaphoreSlim(TokenBacklog, TokenBacklog);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var nodes = new Dictionary<string, Task<bool>>(StringComparer.Ordinal);
        foreach (var node in plan.Graph.Order)
        {
            Task<bool>[] inputs = [.. plan.Graph.Dependencies[node.Id].Select(id => nodes[id])];
            nodes[node.Id] = RunNodeAsync(node, inputs, events.Writer, backlog, stop.Token);
        }

        var allDone = Task.WhenAll(nodes.Values);
        _ = allDone.ContinueWith(_ => events.Writer.Complete(), CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default);
        try
        {
            // Not the caller's token: after a cancel the nodes still report how they ended, and the terminal event follows.
            await foreach (var runEvent in events.Reader.ReadAllAsync(CancellationToken.None))
            {
                if (runEvent is TokenEvent)
                {
                    backlog.Release();
                }

                yield return runEvent;
            }

            await allDone;
        }
        finally
        {
            // A no-op once every node has ended; when the consumer stops reading early, this stops the nodes, so none outlives the run.
            await stop.CancelAsync();
            await allDone;
        }

        yield return new RunFinishedEvent(state.Finish(timeProvider.GetUtcNow(), cancellationToken.IsCancellationRequested));
    }

    /// <returns>True when the node completed; never throws.</returns>
    private async Task<bool> RunNodeAsync(
        FlowNode node, Task<bool>[] inputs, ChannelWriter<RunEvent> events, SemaphoreSlim backlog, CancellationToken cancellationToken)
    {
        var inputsCompleted = (await Task.WhenAll(inputs)).All(completed => completed);
        if (!inputsCompleted || cancellationToken.IsCancellationRequested)
        {
            state.Update(node.Id, n => n with { Status = inputsCompleted ? NodeStatus.Cancelled : NodeStatus.Skipped });
            return false;
        }

        using var span = GatewayActivities.StartNode(RunId, node.Id, node.Type);
        var startedAt = timeProvider.GetUtcNow();
        var started = timeProvider.GetTimestamp();
        state.Update(node.Id, n => n with { Status = NodeStatus.Running, StartedAt = startedAt });
        events.TryWrite(new NodeStartedEvent(node.Id, node.Type));

        var trace = new RouteTrace
        {
            OnRetrying = retry => events.TryWrite(new NodeRetryingEvent(
                node.Id, retry.Attempt, (long)retry.Delay.TotalMilliseconds, retry.Reason, retry.Provider, retry.Model, retry.IsFallback,
                retry.UpstreamRequestId)),
            ThinkingReachesCaller = false, // a node's output is the answer alone
        };
        TokenUsage? cutSpend = null; // what an llm call cut off had spent: its record shows it, as the key's budget counts it
        NodeRecord Traced(NodeRecord n) => n with
        {
            CompletedAt = timeProvider.GetUtcNow(),
            Attempts = trace.Attempts,
            Model = trace.Deployment?.Model,
            Provider = trace.Deployment?.Provider,
            UpstreamRequestId = trace.UpstreamRequestId,
            Usage = cutSpend ?? n.Usage,
        };

        try
        {
            var (output, finishReason, usage) = node.Type switch
            {
                ComponentCatalog.Input => new NodeOutcome(plan.Inputs[node.Id]),
                ComponentCatalog.Prompt => new NodeOutcome(Render(node.Id)),
                ComponentCatalog.Llm => await llm.RunAsync(
                    node, node.System is null ? null : Render(node.Id), state.OutputOf(node.Prompt!) ?? "", trace, owner, _modelText,
                    async text =>
                    {
                        await backlog.WaitAsync(cancellationToken);
                        events.TryWrite(new TokenEvent(node.Id, text));
                    },
                    spent => state.Update(node.Id, n => n with
                    {
                        Attempts = trace.Attempts,
                        Model = trace.Deployment?.Model,
                        Provider = trace.Deployment?.Provider,
                        UpstreamRequestId = trace.UpstreamRequestId,
                        Usage = spent,
                    }),
                    spent => cutSpend = spent,
                    cancellationToken),
                _ => new NodeOutcome(Output: null),
            };

            var record = Traced(new NodeRecord { Status = NodeStatus.Completed, Output = output, FinishReason = finishReason, Usage = usage, StartedAt = startedAt });
            state.Update(node.Id, _ => record);
            events.TryWrite(new NodeCompletedEvent(
                node.Id, output, record.Model, record.Provider, finishReason, usage, (long)timeProvider.GetElapsedTime(started).TotalMilliseconds));
            return true;
        }
        catch (Exception) when (cancellationToken.IsCancellationRequested)
        {
            // Whatever an aborted call threw (a cancellation, or a connection error from the abort), the run was cancelled.
            state.Update(node.Id, n => Traced(n) with { Status = NodeStatus.Cancelled });
            return false;
        }
        catch (RenderedTooLargeException)
        {
            var error = NodeErrors.RenderedTooLarge(node.Id);
            RunsLog.NodeFailed(logger, RunId, node.Id, error.Code, error.Message);
            return Failed(error);
        }
        catch (ModelTextTooLargeException)
        {
            var error = NodeErrors.ModelTextTooLarge(node.Id);
            RunsLog.NodeFailed(logger, RunId, node.Id, error.Code, error.Message);
            return Failed(error);
        }
        catch (UpstreamException exception)
        {
            var error = NodeErrors.FromUpstream(exception, node.Model!);
            RunsLog.NodeFailed(logger, RunId, node.Id, error.Code, exception.LogText);
            return Failed(error);
        }
        catch (Exception exception)
        {
            RunsLog.NodeCrashed(logger, exception, RunId, node.Id);
            return Failed(NodeErrors.InternalError());
        }

        bool Failed(NodeError error)
        {
            GatewayActivities.Failed(span, error.Code, error.Message);
            state.Fail(node.Id, error, Traced);
            events.TryWrite(new NodeFailedEvent(node.Id, error));
            return false;
        }
    }

    /// <summary>
    /// A prompt node's template or an llm node's system message, with node outputs and run variables filled in, drawn
    /// from the run's budget of rendered text. Its length is drawn before the text is built (the values are finished
    /// outputs and variables, so they do not change in between).
    /// </summary>
    private string Render(string nodeId)
    {
        var template = plan.Graph.Templates[nodeId];
        string ValueOf(string name) => plan.Graph.Variables.ContainsKey(name) ? plan.Variables[name] : state.OutputOf(name) ?? "";

        return _rendered.TryDraw(template.RenderedLength(ValueOf)) ? template.Render(ValueOf) : throw new RenderedTooLargeException();
    }

    private sealed class RenderedTooLargeException : Exception;
}
