using System.Data.Common;
using System.Text.Json;
using Gateway.Runs;
using Npgsql;

namespace Gateway.Storage;

/// <summary>
/// Run records as JSON documents, with the columns that queries filter and sort on beside them; times as unix
/// milliseconds. Each appended event, once committed, is made known to the replicas following the run by
/// <see cref="PostgresEventNotices"/>.
/// </summary>
internal sealed class PostgresRunStore(PostgresDatabase database, PostgresEventNotices notices) : IRunStore
{
    /// <summary>A run's record saved while it runs: one that has ended (by another replica, say) stays as it ended.</summary>
    private const string SaveRecord = "UPDATE runs SET status = @status, record = @record WHERE run_id = @run AND status = 'running';";

    public bool IsShared => true;

    public async Task CreateAsync(RunRecord run, string owner, RunLease lease, CancellationToken cancellationToken)
    {
        await using var command = database.DataSource.Command(
            """
            INSERT INTO runs (run_id, flow_id, status, created_at, record, owner, replica, lease_expires_at)
            VALUES (@id, @flow, @status, @created, @record, @owner, @replica, @expires);
            """,
            ("id", run.RunId), ("flow", run.FlowId), ("status", run.Status), ("owner", owner),
            ("created", run.CreatedAt.ToUnixTimeMilliseconds()), ("record", Serialize(run)),
            ("replica", lease.Replica), ("expires", lease.ExpiresAt.ToUnixTimeMilliseconds()));
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task SaveAsync(RunRecord run, CancellationToken cancellationToken)
    {
        await using var command = database.DataSource.Command(
            SaveRecord, ("run", run.RunId), ("status", run.Status), ("record", Serialize(run)));
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>
    /// One batch, one implicit transaction: the events and the record; the notice goes once they have committed, so a
    /// replica woken by it always finds them in the table.
    /// </summary>
    public async Task AppendEventsAsync(string runId, IReadOnlyList<RunEventEntry> entries, RunRecord? run, CancellationToken cancellationToken)
    {
        await using (var batch = database.DataSource.CreateBatch())
        {
            foreach (var entry in entries)
            {
                batch.BatchCommands.Add(PostgresCommands.BatchCommand(
                    "INSERT INTO run_events (run_id, id, name, data) VALUES (@run, @id, @name, @data);",
                    ("run", runId), ("id", entry.Id), ("name", entry.Name), ("data", entry.Data)));
            }

            if (run is not null)
            {
                batch.BatchCommands.Add(PostgresCommands.BatchCommand(
                    SaveRecord,
                    ("run", runId), ("status", run.Status), ("record", Serialize(run))));
            }

            await batch.ExecuteNonQueryAsync(cancellationToken);
        }

        notices.Raise(runId, entries[^1].Id);
    }

    public Task FinishAsync(RunRecord run, RunEventEntry terminal, CancellationToken cancellationToken) =>
        AppendEventsAsync(run.RunId, [terminal], run, cancellationToken);

    public void AnnounceEvents(string runId, long eventId) => notices.Raise(runId, eventId);

    public async Task<RunRecord?> GetAsync(string runId, CancellationToken cancellationToken)
    {
        await using var command = database.DataSource.Command("SELECT record FROM runs WHERE run_id = @id;", ("id", runId));
        return await command.ExecuteScalarAsync(cancellationToken) is string record ? Deserialize(record) : null;
    }

    public async Task<(byte[] Record, string? Owner)?> GetJsonWithOwnerAsync(string runId, CancellationToken cancellationToken)
    {
        // The text as UTF-8 bytes, whatever the database's encoding: no string of twice the size.
        var rows = await ReadAsync(
            "SELECT convert_to(record, 'UTF8'), owner FROM runs WHERE run_id = @id;",
            reader => (reader.GetFieldValue<byte[]>(0), reader.IsDBNull(1) ? null : reader.GetString(1)), cancellationToken, ("id", runId));
        return rows.Count == 0 ? null : rows[0];
    }

    public async Task<string?> GetOwnerAsync(string runId, CancellationToken cancellationToken)
    {
        await using var command = database.DataSource.Command("SELECT coalesce(owner, '') FROM runs WHERE run_id = @id;", ("id", runId));
        return await command.ExecuteScalarAsync(cancellationToken) as string;
    }

    public Task<IReadOnlyList<string>> ListIdsAsync(string? flowId, string? owner, int limit, CancellationToken cancellationToken) =>
        ReadAsync(
            """
            SELECT run_id FROM runs
            WHERE (@flow::text IS NULL OR flow_id = @flow) AND (@owner::text IS NULL OR owner = @owner)
            ORDER BY created_at DESC, seq DESC LIMIT @limit;
            """,
            reader => reader.GetString(0), cancellationToken, ("flow", flowId), ("owner", owner), ("limit", limit));

    public async Task VisitCreatedBetweenAsync(
        DateTimeOffset from, DateTimeOffset to, string? owner, Action<RunRecord, string?> visit, CancellationToken cancellationToken)
    {
        await using var command = database.DataSource.Command(
            """
            SELECT record, owner FROM runs
            WHERE created_at >= @from AND created_at < @to AND (@owner::text IS NULL OR owner = @owner)
            ORDER BY created_at, seq;
            """,
            ("from", from.ToUnixTimeMilliseconds()), ("to", to.ToUnixTimeMilliseconds()), ("owner", owner));
        await command.EachAsync(
            reader =>
            {
                var (run, runOwner) = RecordAndOwner(reader);
                visit(run, runOwner);
            },
            cancellationToken);
    }

    /// <summary>
    /// One statement: the events and the runs go together. Rows another replica is deleting at the same moment are
    /// skipped, not waited for.
    /// </summary>
    public async Task<int> DeleteEndedBeforeAsync(DateTimeOffset cutoff, int limit, CancellationToken cancellationToken)
    {
        await using var command = database.DataSource.Command(
            """
            WITH due AS (
                SELECT run_id FROM runs
                WHERE created_at < @cutoff AND status <> 'running'
                ORDER BY created_at, seq LIMIT @limit
                FOR UPDATE SKIP LOCKED),
            events AS (DELETE FROM run_events USING due WHERE run_events.run_id = due.run_id)
            DELETE FROM runs USING due WHERE runs.run_id = due.run_id;
            """,
            ("cutoff", cutoff.ToUnixTimeMilliseconds()), ("limit", limit));
        return await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public Task<IReadOnlyList<RunRecord>> ListByStatusAsync(string status, CancellationToken cancellationToken) =>
        ReadAsync(
            "SELECT record FROM runs WHERE status = @status ORDER BY created_at, seq;",
            reader => Deserialize(reader.GetString(0)), cancellationToken, ("status", status));

    public async Task<bool> HasEventAsync(string runId, long eventId, CancellationToken cancellationToken)
    {
        await using var command = database.DataSource.Command(
            "SELECT EXISTS (SELECT 1 FROM run_events WHERE run_id = @run AND id = @id);", ("run", runId), ("id", eventId));
        return await command.ExecuteScalarAsync(cancellationToken) is true;
    }

    public Task<IReadOnlyList<RunEventEntry>> GetEventsAsync(string runId, long afterId, CancellationToken cancellationToken) =>
        ReadAsync(
            "SELECT id, name, data FROM run_events WHERE run_id = @run AND id > @after ORDER BY id;",
            reader => new RunEventEntry(reader.GetInt64(0), reader.GetString(1), reader.GetString(2)), cancellationToken,
            ("run", runId), ("after", afterId));

    public async Task<IReadOnlyList<string>> RenewLeasesAsync(
        string replica, IReadOnlyCollection<string>? runIds, DateTimeOffset expiresAt, CancellationToken cancellationToken)
    {
        var renewed = await ReadAsync(
            """
            UPDATE runs SET lease_expires_at = @expires
            WHERE replica = @replica AND status = 'running' AND (@ids::text[] IS NULL OR run_id = ANY(@ids::text[]))
            RETURNING run_id, cancel_requested;
            """,
            reader => (RunId: reader.GetString(0), CancelRequested: reader.GetBoolean(1)), cancellationToken,
            ("replica", replica), ("expires", expiresAt.ToUnixTimeMilliseconds()), ("ids", runIds?.ToArray()));
        return [.. renewed.Where(run => run.CancelRequested).Select(run => run.RunId)];
    }

    public async Task<bool> RequestCancelAsync(string runId, CancellationToken cancellationToken)
    {
        await using var command = database.DataSource.Command(
            "UPDATE runs SET cancel_requested = true WHERE run_id = @id AND status = 'running';", ("id", runId));
        return await command.ExecuteNonQueryAsync(cancellationToken) == 1;
    }

    /// <summary>
    /// Rows another claimer has locked are skipped, and a row it has just claimed no longer matches when re-read under
    /// the lock (its lease is new): however many replicas claim at once, each lapsed run goes to one of them.
    /// </summary>
    public Task<IReadOnlyList<RunRecord>> ClaimLapsedAsync(RunLease claimant, DateTimeOffset now, CancellationToken cancellationToken) =>
        ReadAsync(
            """
            WITH lapsed AS (
                SELECT run_id FROM runs
                WHERE status = 'running' AND (lease_expires_at IS NULL OR lease_expires_at < @now)
                FOR UPDATE SKIP LOCKED)
            UPDATE runs SET replica = @replica, lease_expires_at = @expires
            FROM lapsed WHERE runs.run_id = lapsed.run_id
            RETURNING runs.record;
            """,
            reader => Deserialize(reader.GetString(0)), cancellationToken,
            ("replica", claimant.Replica), ("expires", claimant.ExpiresAt.ToUnixTimeMilliseconds()), ("now", now.ToUnixTimeMilliseconds()));

    private async Task<IReadOnlyList<T>> ReadAsync<T>(
        string sql, Func<NpgsqlDataReader, T> read, CancellationToken cancellationToken, params (string Name, object? Value)[] parameters)
    {
        await using var command = database.DataSource.Command(sql, parameters);
        return await command.ReadAllAsync(read, cancellationToken);
    }

    private static string Serialize(RunRecord run) => JsonSerializer.Serialize(run, RunsJsonContext.Default.RunRecord);

    /// <summary>A row of <c>record, owner</c>.</summary>
    private static (RunRecord Run, string? Owner) RecordAndOwner(DbDataReader reader) =>
        (Deserialize(reader.GetString(0)), reader.IsDBNull(1) ? null : reader.GetString(1));

    private static RunRecord Deserialize(string record) =>
        JsonSerializer.Deserialize(record, RunsJsonContext.Default.RunRecord) ?? throw new InvalidDataException("A stored run record is empty.");
}
