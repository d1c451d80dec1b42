using Gateway.Storage;
using Gateway.Telemetry;

namespace Gateway.Runs;

/// <summary>
/// Keeps this replica's claim on the runs it executes and ends the runs no replica executes any more. Every third
/// of a lease it renews the leases of its running runs (and cancels those a cancel was recorded for through
/// another replica), then claims the running runs whose lease lapsed — their replica died — and ends each as
/// <c>interrupted</c>, with the terminal event its log never got, so no replay of it ends silently.
/// At start-up, before requests are served, the same claim runs once. A store no other replica shares (SQLite) has
/// no live replica but this one, so there every run still marked running was cut off with the previous process; on
/// a shared store, a replica with a configured id gives up what it held in its previous life first, so its own
/// cut-off runs end at once rather than when their leases lapse.
/// </summary>
internal sealed class RunLeases(
    IRunStore store, Replica replica, LiveRuns liveRuns, RunEnder ender, TimeProvider timeProvider, GatewayMetrics metrics, ILogger<RunLeases> logger)
    : BackgroundService, IHostedLifecycleService
{
    public async Task StartingAsync(CancellationToken cancellationToken)
    {
        if (store.IsShared && replica.IsNamed)
        {
            await store.RenewLeasesAsync(replica.Id, runIds: null, DateTimeOffset.UnixEpoch, cancellationToken);
        }

        var now = store.IsShared ? timeProvider.GetUtcNow() : DateTimeOffset.MaxValue;
        await InterruptLapsedAsync(now, cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(replica.LeaseDuration / 3, timeProvider);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                try
                {
                    await RenewAsync(stoppingToken);
                    // Alone on its store, this replica's own runs are the only ones there are: none can lapse but by a stall here.
                    if (store.IsShared)
                    {
                        await InterruptLapsedAsync(timeProvider.GetUtcNow(), stoppingToken);
                    }
                }
                catch (Exception exception) when (exception is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
                {
                    // The store is unreachable for now: the next tick tries again, well within the lease. A known
                    // outage is one line with its reason, not a stack trace every third of a lease while it lasts.
                    if (StoreErrors.IsUnavailable(exception))
                    {
                        RunsLog.RenewFailedStoreUnavailable(logger, replica.Id, exception.Message);
                    }
                    else
                    {
                        RunsLog.RenewFailed(logger, exception, replica.Id);
                    }
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping. Ending quietly matters when start-up was refused: the host then disposes this service without
            // having stopped it, and would log the cancellation as "BackgroundService failed" under the refusal.
        }
    }

    private async Task RenewAsync(CancellationToken cancellationToken)
    {
        // Only the runs this process still executes: one whose task died without ending it lapses, and is ended by its claimer.
        var executing = liveRuns.ExecutingIds;
        if (executing.Count == 0)
        {
            return;
        }

        foreach (var runId in await store.RenewLeasesAsync(replica.Id, executing, replica.NewLease().ExpiresAt, cancellationToken))
        {
            if (liveRuns.TryGet(runId, out var log) && log.Cancel())
            {
                RunsLog.CancelledElsewhere(logger, runId);
            }
        }
    }

    private async Task InterruptLapsedAsync(DateTimeOffset now, CancellationToken cancellationToken)
    {
        foreach (var run in await store.ClaimLapsedAsync(replica.NewLease(), now, cancellationToken))
        {
            string status;
            try
            {
                status = (await ender.EndAsync(run, RunEnder.ReplicaStopped, cancellationToken)).Status;
            }
            catch (Exception exception) when (exception is not OperationCanceledException && !StoreErrors.IsUnavailable(exception))
            {
                // One run the ender cannot end (a record or event its store holds in a shape this build cannot read) is
                // left to lapse again, not the reason the others stay unended or this replica does not start.
                RunsLog.EndingLapsedRunFailed(logger, exception, run.RunId);
                continue;
            }

            if (status == RunStatus.Interrupted)
            {
                RunsLog.LeaseLapsed(logger, run.RunId);
            }

            metrics.RunEnded(status);
        }
    }

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
