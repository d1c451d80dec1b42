using System.Data.Common;
using Gateway.Runs;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.Tests.Infrastructure;

/// <summary>
/// The real run store, refusing a given number of writes of events the way a database does during a failover: with a
/// transient <see cref="DbException"/>, before anything is written; and holding back a read by id, or the return from
/// storing a run's end, when told to. It tells whoever asks of each write of a run (<see cref="OnRunWrite"/>).
/// </summary>
internal sealed class FlakyRunStore(IRunStore inner) : IRunStore
{
    private int _appendsToRefuse;
    private int _refused;
    private int _eventReads;

    public int Refused => Volatile.Read(ref _refused);

    private Func<Exception>? _refusal;

    /// <summary>Refuses the next <paramref name="count"/> writes of events with <paramref name="refusal"/>'s exception (a failover's, unless told).</summary>
    public void RefuseNextAppends(int count, Func<Exception>? refusal = null)
    {
        _refusal = refusal;
        Volatile.Write(ref _appendsToRefuse, count);
    }

    public bool IsShared => inner.IsShared;

    /// <summary>Called with the run's id as each of its writes (create, events, save, finish) is handed to the store.</summary>
    public Action<string>? OnRunWrite { get; set; }

    /// <summary>
    /// Awaited once a run's terminal event and final record are stored, before the writer hears so: lets a test hold
    /// the moment a run's end is in the store and not yet in its live log.
    /// </summary>
    public Func<RunEventEntry, Task>? AfterFinish { get; set; }

    /// <summary>
    /// Awaited once a write of events that does not end the run is stored, before the writer hears so: lets a test hold
    /// the moment the store has events the live log does not.
    /// </summary>
    public Func<IReadOnlyList<RunEventEntry>, Task>? AfterEvents { get; set; }

    /// <summary>
    /// Awaited before a write of events that does not end the run is handed to the store: lets a test do what another
    /// replica does (end the run) while the write is on its way.
    /// </summary>
    public Func<IReadOnlyList<RunEventEntry>, Task>? BeforeEvents { get; set; }

    /// <summary>Awaited before each save of a running run's record (with events or alone): lets a test make saves slow.</summary>
    public Func<Task>? BeforeSave { get; set; }

    /// <summary>How long each write of events takes on top of the store's own time, as a distant database's round trip does.</summary>
    public TimeSpan EventsWriteDelay { get; set; }

    /// <summary>
    /// Whether the store is gone, as a SQLite file deleted under the gateway is: every write of events (a run's end
    /// too), every read of them and every lease renewal fails, as "unable to open database file".
    /// </summary>
    public bool Gone { get; set; }

    private static Microsoft.Data.Sqlite.SqliteException GoneException() =>
        new("SQLite Error 14: 'unable to open database file'.", Gateway.Storage.StoreErrors.SqliteCantOpen);

    /// <summary>
    /// A write of events refused (not one that ends the run, which the refusals leave alone, as they always did), or a
    /// save slowed, as told; a run's end held, as told (<see cref="AfterFinish"/>).
    /// </summary>
    public async Task AppendEventsAsync(string runId, IReadOnlyList<RunEventEntry> entries, RunRecord? run, CancellationToken cancellationToken)
    {
        OnRunWrite?.Invoke(runId);
        if (Gone)
        {
            throw GoneException();
        }

        var ends = run is { Status: not RunStatus.Running };
        if (!ends && Interlocked.Decrement(ref _appendsToRefuse) >= 0)
        {
            Interlocked.Increment(ref _refused);
            throw _refusal?.Invoke() ?? new FailoverException();
        }

        if (EventsWriteDelay > TimeSpan.Zero)
        {
            await Task.Delay(EventsWriteDelay, cancellationToken);
        }

        if (!ends && BeforeEvents is { } beforeEvents)
        {
            await beforeEvents(entries);
        }

        if (run is not null && !ends && BeforeSave is { } beforeSave)
        {
            await beforeSave();
        }

        await inner.AppendEventsAsync(runId, entries, run, cancellationToken);
        if (ends && AfterFinish is { } afterFinish)
        {
            await afterFinish(entries[^1]);
        }
        else if (!ends && AfterEvents is { } afterEvents)
        {
            await afterEvents(entries);
        }
    }

    public Task FinishAsync(RunRecord run, RunEventEntry terminal, CancellationToken cancellationToken) =>
        AppendEventsAsync(run.RunId, [terminal], run, cancellationToken);

    public void AnnounceEvents(string runId, long eventId) => inner.AnnounceEvents(runId, eventId);

    /// <summary>Whether new runs are refused, as SQLite refuses writes while another process holds its lock.</summary>
    public bool FailCreates { get; set; }

    public Task CreateAsync(RunRecord run, string owner, RunLease lease, CancellationToken cancellationToken)
    {
        OnRunWrite?.Invoke(run.RunId);
        return FailCreates
            ? throw new Microsoft.Data.Sqlite.SqliteException("database is locked", Gateway.Storage.StoreErrors.SqliteBusy)
            : inner.CreateAsync(run, owner, lease, cancellationToken);
    }

    /// <summary>Whether reads of a run's owner fail, as every read does while the database is down.</summary>
    public bool FailOwnerReads { get; set; }

    public Task<string?> GetOwnerAsync(string runId, CancellationToken cancellationToken) =>
        FailOwnerReads ? throw new FailoverException() : inner.GetOwnerAsync(runId, cancellationToken);

    public async Task SaveAsync(RunRecord run, CancellationToken cancellationToken)
    {
        OnRunWrite?.Invoke(run.RunId);
        if (BeforeSave is { } beforeSave)
        {
            await beforeSave();
        }

        await inner.SaveAsync(run, cancellationToken);
    }

    /// <summary>Awaited before each record is read by id: lets a test hold a read back.</summary>
    public Func<string, Task>? BeforeGet { get; set; }

    public async Task<RunRecord?> GetAsync(string runId, CancellationToken cancellationToken)
    {
        if (BeforeGet is { } beforeGet)
        {
            await beforeGet(runId);
        }

        return await inner.GetAsync(runId, cancellationToken);
    }

    public Task<(byte[] Record, string? Owner)?> GetJsonWithOwnerAsync(string runId, CancellationToken cancellationToken) =>
        FailOwnerReads ? throw new FailoverException() : inner.GetJsonWithOwnerAsync(runId, cancellationToken);

    public Task<IReadOnlyList<string>> ListIdsAsync(string? flowId, string? owner, int limit, CancellationToken cancellationToken) =>
        inner.ListIdsAsync(flowId, owner, limit, cancellationToken);

    public Task VisitCreatedBetweenAsync(
        DateTimeOffset from, DateTimeOffset to, string? owner, Action<RunRecord, string?> visit, CancellationToken cancellationToken) =>
        inner.VisitCreatedBetweenAsync(from, to, owner, visit, cancellationToken);

    public Task<int> DeleteEndedBeforeAsync(DateTimeOffset cutoff, int limit, CancellationToken cancellationToken) =>
        inner.DeleteEndedBeforeAsync(cutoff, limit, cancellationToken);

    public Task<IReadOnlyList<RunRecord>> ListByStatusAsync(string status, CancellationToken cancellationToken) =>
        inner.ListByStatusAsync(status, cancellationToken);

    public Task<bool> HasEventAsync(string runId, long eventId, CancellationToken cancellationToken) => inner.HasEventAsync(runId, eventId, cancellationToken);

    /// <summary>How many times a run's events were read.</summary>
    public int EventReads => Volatile.Read(ref _eventReads);

    public Task<IReadOnlyList<RunEventEntry>> GetEventsAsync(string runId, long afterId, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _eventReads);
        return Gone ? throw GoneException() : inner.GetEventsAsync(runId, afterId, cancellationToken);
    }

    public Task<IReadOnlyList<string>> RenewLeasesAsync(
        string replica, IReadOnlyCollection<string>? runIds, DateTimeOffset expiresAt, CancellationToken cancellationToken) =>
        Gone ? throw GoneException() : inner.RenewLeasesAsync(replica, runIds, expiresAt, cancellationToken);

    public Task<bool> RequestCancelAsync(string runId, CancellationToken cancellationToken) => inner.RequestCancelAsync(runId, cancellationToken);

    public Task<IReadOnlyList<RunRecord>> ClaimLapsedAsync(RunLease claimant, DateTimeOffset now, CancellationToken cancellationToken) =>
        inner.ClaimLapsedAsync(claimant, now, cancellationToken);

    /// <summary>What a database in a failover throws: transient, so the writer tries again.</summary>
    internal sealed class FailoverException() : DbException("57P01: terminating connection due to administrator command")
    {
        public override bool IsTransient => true;
    }
}

internal static class FlakyRunStoreServices
{
    /// <summary>
    /// Puts a <see cref="FlakyRunStore"/> over the gateway's own store of type <typeparamref name="TStore"/>: the one
    /// <paramref name="make"/> makes over it (with its hooks set), or a plain one.
    /// </summary>
    public static IServiceCollection AddFlakyRunStore<TStore>(this IServiceCollection services, Func<IRunStore, FlakyRunStore>? make = null)
        where TStore : class, IRunStore
    {
        services.AddSingleton<TStore>();
        return services.AddSingleton<IRunStore>(provider => (make ?? (inner => new FlakyRunStore(inner)))(provider.GetRequiredService<TStore>()));
    }
}
