namespace Gateway.Runs;

internal static partial class RunsLog
{
    [LoggerMessage(Level = LogLevel.Information, Message = "Run {RunId} of flow {FlowId} started")]
    public static partial void Started(ILogger logger, string runId, string? flowId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Run {RunId} ended {Status}")]
    public static partial void Finished(ILogger logger, string runId, string status);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Run {RunId}: node {Node} failed: {Code} {Reason}")]
    public static partial void NodeFailed(ILogger logger, string runId, string node, string code, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Run {RunId}: node {Node} failed inside the gateway")]
    public static partial void NodeCrashed(ILogger logger, Exception exception, string runId, string node);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The gateway stopped with {Count} run(s) unfinished; they end interrupted at the next start, or on another replica")]
    public static partial void StoppedWithRunsUnfinished(ILogger logger, int count);

    [LoggerMessage(Level = LogLevel.Error, Message = "Run {RunId} stopped on an error")]
    public static partial void RunCrashed(ILogger logger, Exception exception, string runId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Storing a run's event or record failed (attempt {Attempt}); trying again in {DelayMs} ms")]
    public static partial void StoreRetrying(ILogger logger, Exception exception, int attempt, long delayMs);

    /// <summary>Run {RunId} stopped as its store was unavailable: the reason, without a stack trace (a store away is a known condition).</summary>
    [LoggerMessage(Level = LogLevel.Error, Message = "Run {RunId} stopped: its store is unavailable ({Reason})")]
    public static partial void RunStoppedStoreUnavailable(ILogger logger, string runId, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Storing a run's event or record failed (attempt {Attempt}), the store being unavailable ({Reason}); trying again in {DelayMs} ms")]
    public static partial void StoreRetryingUnavailable(ILogger logger, int attempt, string reason, long delayMs);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Run {RunId}: storing its terminal event failed; trying again in {DelayMs} ms")]
    public static partial void EndingCrashedRunFailed(ILogger logger, Exception exception, string runId, long delayMs);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Run {RunId}: its end could not be stored in time; its watchers were told it (event {EventId}), and it is stored once the store takes it")]
    public static partial void EndToldUnstored(ILogger logger, string runId, long eventId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Run {RunId}: the end its watchers were told is stored")]
    public static partial void ToldEndStored(ILogger logger, string runId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Run {RunId}: the end its watchers were told (event {EventId}) could not be stored, its id taken meanwhile; the run is ended from the store's log")]
    public static partial void ToldEndTaken(ILogger logger, string runId, long eventId);

    /// <summary>The store cannot be used for now (a full or read-only disk, a lock, a database away): its reason, no stack.</summary>
    [LoggerMessage(Level = LogLevel.Warning, Message = "Run {RunId}: storing its terminal event failed, the store being unavailable ({Reason}); trying again in {DelayMs} ms")]
    public static partial void EndingCrashedRunWaits(ILogger logger, string runId, string reason, long delayMs);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Run {RunId}: reading its events from the store failed; trying again at the next poll")]
    public static partial void FollowRetrying(ILogger logger, Exception exception, string runId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Run {RunId}: telling the replica that executes it that it is watched from here failed")]
    public static partial void AnnounceFailed(ILogger logger, Exception exception, string runId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Run {RunId}: signalling the cancel to the replica that executes it failed; it finds the request at its next lease renewal")]
    public static partial void CancelSignalFailed(ILogger logger, Exception exception, string runId);

    [LoggerMessage(Level = LogLevel.Error, Message = "Run {RunId}: the store has been unreachable too long to follow it; the watcher's stream ends")]
    public static partial void FollowFailed(ILogger logger, Exception exception, string runId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Run {RunId} was taken over by another replica while this one did not renew its lease (a stall past it); the other's end of it stands")]
    public static partial void TakenOver(ILogger logger, string runId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Run {RunId} was cut off: the replica running it stopped renewing its lease; marked interrupted")]
    public static partial void LeaseLapsed(ILogger logger, string runId);

    [LoggerMessage(Level = LogLevel.Error, Message = "Run {RunId}, whose replica stopped, could not be ended; it is tried again when its new lease lapses")]
    public static partial void EndingLapsedRunFailed(ILogger logger, Exception exception, string runId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Renewing the leases of replica {Replica} failed; retrying")]
    public static partial void RenewFailed(ILogger logger, Exception exception, string replica);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Renewing the leases of replica {Replica} failed, the store being unavailable ({Reason}); retrying")]
    public static partial void RenewFailedStoreUnavailable(ILogger logger, string replica, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Run {RunId}: cancel asked through another replica")]
    public static partial void CancelledElsewhere(ILogger logger, string runId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Run {RunId}: a watcher that stopped reading was cut off after {Seconds} s of a write waiting on it; it may resume with Last-Event-ID")]
    public static partial void WatcherStalled(ILogger logger, string runId, double seconds);
}
