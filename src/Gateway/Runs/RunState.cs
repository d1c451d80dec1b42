namespace Gateway.Runs;

/// <summary>
/// The record of a run while it runs: node tasks update their own entries concurrently, and a snapshot can be
/// taken at any moment (to persist it, or as the data of the terminal event).
/// </summary>
internal sealed class RunState
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, NodeRecord> _nodes;
    private readonly IReadOnlyList<string> _outputIds;
    private RunError? _firstFailure;
    private RunError? _interruption;
    /// <summary>Why the run was cancelled, once a cancel was accepted (<see cref="TryAcceptCancel"/>).</summary>
    private string? _cancelReason;
    private bool _finished;

    public RunState(string runId, string? flowId, DateTimeOffset createdAt, IEnumerable<string> nodeIds, IReadOnlyList<string> outputIds)
    {
        RunId = runId;
        FlowId = flowId;
        CreatedAt = createdAt;
        _outputIds = outputIds;
        _nodes = nodeIds.ToDictionary(id => id, _ => new NodeRecord { Status = NodeStatus.Pending }, StringComparer.Ordinal);
    }

    public string RunId { get; }

    public string? FlowId { get; }

    public DateTimeOffset CreatedAt { get; }

    public string? OutputOf(string nodeId)
    {
        lock (_gate)
        {
            return _nodes[nodeId].Output;
        }
    }

    public void Update(string nodeId, Func<NodeRecord, NodeRecord> change)
    {
        lock (_gate)
        {
            _nodes[nodeId] = change(_nodes[nodeId]);
        }
    }

    /// <summary>Marks a node failed; the first failure becomes the run's error.</summary>
    public void Fail(string nodeId, NodeError error, Func<NodeRecord, NodeRecord> change)
    {
        lock (_gate)
        {
            _nodes[nodeId] = change(_nodes[nodeId]) with { Status = NodeStatus.Failed, Error = error };
            _firstFailure ??= new RunError(error.Code, $"Node '{nodeId}' failed: {error.Message}", nodeId);
        }
    }

    /// <summary>The gateway is stopping this run, not its caller: unless it completes anyway, it ends interrupted.</summary>
    public void Interrupt(RunError reason)
    {
        lock (_gate)
        {
            _interruption ??= reason;
        }
    }

    /// <summary>Why a run was cancelled, in its record's error: a caller asked (here or through another replica).</summary>
    public const string CancelledByCaller = "The run was cancelled by a caller before it finished.";

    /// <summary>Why a run was cancelled: nobody watched it (<see cref="Streaming.StreamingOptions"/>' disconnect grace).</summary>
    public const string CancelledUnwatched =
        "The run was cancelled before it finished: its last watcher left and none came back within Gateway:Streaming:DisconnectGraceSeconds.";

    public RunRecord Snapshot() => Snapshot(RunStatus.Running, completedAt: null);

    /// <summary>
    /// Whether a cancel may still change how the run ends: not once its end is decided, nor once no node is pending
    /// or running (its work is over, and how it ended is known). When it may, the run will end cancelled (or
    /// interrupted), whatever comes between this and the end: a cancel that is accepted is kept.
    /// </summary>
    /// <param name="reason">Why: <see cref="CancelledByCaller"/> or <see cref="CancelledUnwatched"/>; the first accepted is kept.</param>
    public bool TryAcceptCancel(string reason)
    {
        lock (_gate)
        {
            if (_finished || !_nodes.Values.Any(n => n.Status is NodeStatus.Pending or NodeStatus.Running))
            {
                return false;
            }

            _cancelReason ??= reason;
            return true;
        }
    }

    /// <summary>
    /// The finished record: completed when every node did, unless its caller's cancel was accepted before that (a
    /// cancel answered 202 ends the run cancelled, as its caller was told); else, when the gateway stopped it, failed
    /// if a node failed and interrupted if not; else cancelled when it was cancelled, even after a node failed; else failed.
    /// </summary>
    /// <param name="completedAt">When the run ended.</param>
    /// <param name="cancelled">Whether the run was cancelled: by its caller, for want of watchers, or by the gateway stopping.</param>
    public RunRecord Finish(DateTimeOffset completedAt, bool cancelled)
    {
        lock (_gate)
        {
            _finished = true;
            var allCompleted = _nodes.Values.All(n => n.Status == NodeStatus.Completed);
            var cancelAccepted = _cancelReason is not null;
            var status = allCompleted && (!cancelAccepted || _interruption is not null) ? RunStatus.Completed
                : _interruption is not null ? (_firstFailure is not null ? RunStatus.Failed : RunStatus.Interrupted)
                : cancelled || cancelAccepted || _firstFailure is null ? RunStatus.Cancelled
                : RunStatus.Failed;
            return Snapshot(status, completedAt);
        }
    }

    private RunRecord Snapshot(string status, DateTimeOffset? completedAt)
    {
        lock (_gate)
        {
            var outputs = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var id in _outputIds)
            {
                if (_nodes[id] is { Status: NodeStatus.Completed, Output: { } output })
                {
                    outputs[id] = output;
                }
            }

            var error = status switch
            {
                RunStatus.Failed => _firstFailure,
                RunStatus.Interrupted => _interruption,
                RunStatus.Cancelled => new RunError("cancelled", _cancelReason ?? "The run was cancelled before it finished.", null),
                _ => null,
            };
            return new RunRecord
            {
                RunId = RunId,
                FlowId = FlowId,
                Status = status,
                CreatedAt = CreatedAt,
                CompletedAt = completedAt,
                Outputs = outputs,
                Nodes = new Dictionary<string, NodeRecord>(_nodes, StringComparer.Ordinal),
                Usage = _nodes.Values.Aggregate(TokenUsage.Zero, (total, node) => total.Add(node.Usage)),
                Error = error,
            };
        }
    }
}
