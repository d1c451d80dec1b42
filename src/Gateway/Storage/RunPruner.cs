using Gateway.Runs;
using Microsoft.Extensions.Options;

namespace Gateway.Storage;

/// <summary>
/// Deletes ended runs older than <c>Gateway:Storage:RunRetentionDays</c> from the store, with their events: once
/// shortly after start-up, then every hour (more often for a retention under a day), a hundred runs at a time so
/// that the runs being written never wait long behind it. Does nothing when the retention is 0. On a shared store
/// every replica prunes; they skip the rows another is deleting.
/// </summary>
internal sealed partial class RunPruner(IRunStore store, IOptions<StorageOptions> options, TimeProvider timeProvider, ILogger<RunPruner> logger)
    : BackgroundService
{
    /// <summary>Runs deleted per store call.</summary>
    internal const int BatchSize = 100;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (options.Value.RunRetention is not { } retention)
        {
            return;
        }

        using var timer = new PeriodicTimer(Interval(retention), timeProvider);
        try
        {
            do
            {
                try
                {
                    await PruneAsync(timeProvider.GetUtcNow() - retention, stoppingToken);
                }
                catch (Exception exception) when (exception is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
                {
                    // The store is unreachable for now: what is due now is still due at the next tick.
                    LogPruneFailed(logger, exception);
                }
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping.
        }
    }

    /// <summary>Deletes every ended run created before <paramref name="cutoff"/>, a batch at a time.</summary>
    internal async Task<int> PruneAsync(DateTimeOffset cutoff, CancellationToken cancellationToken)
    {
        var total = 0;
        int deleted;
        do
        {
            deleted = await store.DeleteEndedBeforeAsync(cutoff, BatchSize, cancellationToken);
            total += deleted;
        }
        while (deleted == BatchSize);

        if (total > 0)
        {
            LogPruned(logger, total, cutoff);
        }

        return total;
    }

    /// <summary>An hour, or a 24th of a shorter retention (a minute at least): a run outlives its time by a 24th at most.</summary>
    private static TimeSpan Interval(TimeSpan retention) =>
        TimeSpan.FromTicks(Math.Clamp(retention.Ticks / 24, TimeSpan.TicksPerMinute, TimeSpan.TicksPerHour));

    [LoggerMessage(Level = LogLevel.Information, Message = "Deleted {Count} ended runs started before {Cutoff:O} (Gateway:Storage:RunRetentionDays)")]
    private static partial void LogPruned(ILogger logger, int count, DateTimeOffset cutoff);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Deleting runs past their retention failed; the next pass tries again")]
    private static partial void LogPruneFailed(ILogger logger, Exception exception);
}
