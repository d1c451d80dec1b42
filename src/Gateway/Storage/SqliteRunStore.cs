using System.Data.Common;
using System.Text.Json;
using Gateway.Runs;
using Microsoft.Data.Sqlite;

namespace Gateway.Storage;

/// <summary>Run records as JSON documents, with the columns that queries filter and sort on beside them.</summary>
internal sealed class SqliteRunStore(SqliteDatabase database) : IRunStore
{
    /// <summary>A run's record saved while it runs: one that has ended (by another replica, say) stays as it ended.</summary>
    private const string SaveRecord = "UPDATE runs SET status = $status, record = $record WHERE run_id = $id AND status = 'running';";

    public bool IsShared => false;

    public Task CreateAsync(RunRecord run, string owner, RunLease lease, CancellationToken cancellationToken) =>
        database.WriteAsync(async (connection, transaction) =>
        {
            await using var command = connection.Command(
                transaction,
                """
                INSERT INTO runs (run_id, flow_id, status, created_at, record, owner, replica, lease_expires_at)
                VALUES ($id, $flow, $status, $created, $record, $owner, $replica, $expires);
                """,
                ("$id", run.RunId), ("$flow", run.FlowId), ("$status", run.Status), ("$owner", owner),
                ("$created", run.CreatedAt.ToUnixTimeMilliseconds()), ("$record", Serialize(run)),
                ("$replica", lease.Replica), ("$expires", lease.ExpiresAt.ToUnixTimeMilliseconds()));
            await command.ExecuteNonQueryAsync(cancellationToken);
        }, cancellationToken);

    // Records are serialized before the write gate (here and in AppendEventsAsync): a large one must not hold up every
    // other run's writes while it is turned into text.
    public Task SaveAsync(RunRecord run, CancellationToken cancellationToken)
    {
        var record = Serialize(run);
        return database.WriteAsync(async (connection, transaction) =>
        {
            await using var command = connection.Command(
                transaction, SaveRecord,
                ("$id", run.RunId), ("$status", run.Status), ("$record", record));
            await command.ExecuteNonQueryAsync(cancellationToken);
        }, cancellationToken);
    }

    public Task AppendEventsAsync(string runId, IReadOnlyList<RunEventEntry> entries, RunRecord? run, CancellationToken cancellationToken)
    {
        var record = run is null ? null : Serialize(run);
        return database.WriteAsync(async (connection, transaction) =>
        {
            await using (var insert = connection.Command(
                transaction, "INSERT INTO run_events (run_id, id, name, data) VALUES ($run, $id, $name, $data);",
                ("$run", runId), ("$id", 0L), ("$name", ""), ("$data", "")))
            {
                foreach (var entry in entries)
                {
                    (insert.Parameters["$id"].Value, insert.Parameters["$name"].Value, insert.Parameters["$data"].Value) = (entry.Id, entry.Name, entry.Data);
                    await insert.ExecuteNonQueryAsync(cancellationToken);
                }
            }

            if (record is not null)
            {
                await using var update = connection.Command(
                    transaction, SaveRecord,
                    ("$id", runId), ("$status", run!.Status), ("$record", record));
                await update.ExecuteNonQueryAsync(cancellationToken);
            }
        }, cancellationToken);
    }

    public Task FinishAsync(RunRecord run, RunEventEntry terminal, CancellationToken cancellationToken) =>
        AppendEventsAsync(run.RunId, [terminal], run, cancellationToken);

    /// <summary>Nothing to tell: the file is this process's alone, and its watchers follow the run's live log.</summary>
    public void AnnounceEvents(string runId, long eventId)
    {
    }

    public Task<RunRecord?> GetAsync(string runId, CancellationToken cancellationToken) =>
        database.ReadAsync(async connection =>
        {
            await using var command = connection.Command("SELECT record FROM runs WHERE run_id = $id;", ("$id", runId));
            return await command.ExecuteScalarAsync(cancellationToken) is string record ? Deserialize(record) : null;
        }, cancellationToken);

    public async Task<(byte[] Record, string? Owner)?> GetJsonWithOwnerAsync(string runId, CancellationToken cancellationToken)
    {
        var rows = await database.ReadAsync<IReadOnlyList<(byte[], string?)>>(async connection =>
        {
            await using var command = connection.Command("SELECT record, owner FROM runs WHERE run_id = $id;", ("$id", runId));
            // A TEXT column read as bytes is its UTF-8, as SQLite holds it: no string of twice the size.
            return await command.ReadAllAsync(
                reader => (reader.GetFieldValue<byte[]>(0), reader.IsDBNull(1) ? null : reader.GetString(1)), cancellationToken);
        }, cancellationToken);
        return rows.Count == 0 ? null : rows[0];
    }

    public Task<string?> GetOwnerAsync(string runId, CancellationToken cancellationToken) =>
        database.ReadAsync(async connection =>
        {
            await using var command = connection.Command("SELECT coalesce(owner, '') FROM runs WHERE run_id = $id;", ("$id", runId));
            return await command.ExecuteScalarAsync(cancellationToken) as string;
        }, cancellationToken);

    public Task<IReadOnlyList<string>> ListIdsAsync(string? flowId, string? owner, int limit, CancellationToken cancellationToken) =>
        database.ReadAsync(async connection =>
        {
            await using var command = connection.Command(
                """
                SELECT run_id FROM runs
                WHERE ($flow IS NULL OR flow_id = $flow) AND ($owner IS NULL OR owner = $owner)
                ORDER BY created_at DESC, rowid DESC LIMIT $limit;
                """,
                ("$flow", flowId), ("$owner", owner), ("$limit", limit));
            return await command.ReadAllAsync(reader => reader.GetString(0), cancellationToken);
        }, cancellationToken);

    public Task VisitCreatedBetweenAsync(
        DateTimeOffset from, DateTimeOffset to, string? owner, Action<RunRecord, string?> visit, CancellationToken cancellationToken) =>
        database.ReadAsync(async connection =>
        {
            await using var command = connection.Command(
                """
                SELECT record, owner FROM runs
                WHERE created_at >= $from AND created_at < $to AND ($owner IS NULL OR owner = $owner)
                ORDER BY created_at, rowid;
                """,
                ("$from", from.ToUnixTimeMilliseconds()), ("$to", to.ToUnixTimeMilliseconds()), ("$owner", owner));
            await command.EachAsync(
                reader =>
                {
                    var (run, runOwner) = RecordAndOwner(reader);
                    visit(run, runOwner);
                },
                cancellationToken);
        }, cancellationToken);

    /// <summary>
    /// Both deletes pick the same runs: they run in one transaction behind the single writer, so nothing changes the
    /// runs between them.
    /// </summary>
    public Task<int> DeleteEndedBeforeAsync(DateTimeOffset cutoff, int limit, CancellationToken cancellationToken) =>
        database.WriteAsync(async (connection, transaction) =>
        {
            const string Due = "SELECT run_id FROM runs WHERE created_at < $cutoff AND status <> 'running' ORDER BY created_at, rowid LIMIT $limit";
            (string, object?)[] parameters = [("$cutoff", cutoff.ToUnixTimeMilliseconds()), ("$limit", limit)];
            await using (var events = connection.Command(transaction, $"DELETE FROM run_events WHERE run_id IN ({Due});", parameters))
            {
                await events.ExecuteNonQueryAsync(cancellationToken);
            }

            await using var runs = connection.Command(transaction, $"DELETE FROM runs WHERE run_id IN ({Due});", parameters);
            return await runs.ExecuteNonQueryAsync(cancellationToken);
        }, cancellationToken);

    public Task<IReadOnlyList<RunRecord>> ListByStatusAsync(string status, CancellationToken cancellationToken) =>
        QueryRecordsAsync("SELECT record FROM runs WHERE status = $status ORDER BY created_at, rowid;", cancellationToken, ("$status", status));

    public Task<bool> HasEventAsync(string runId, long eventId, CancellationToken cancellationToken) =>
        database.ReadAsync(async connection =>
        {
            await using var command = connection.Command(
                "SELECT EXISTS (SELECT 1 FROM run_events WHERE run_id = $run AND id = $id);", ("$run", runId), ("$id", eventId));
            return Convert.ToInt64(await command.ExecuteScalarAsync(cancellationToken), System.Globalization.CultureInfo.InvariantCulture) == 1;
        }, cancellationToken);

    public Task<IReadOnlyList<RunEventEntry>> GetEventsAsync(string runId, long afterId, CancellationToken cancellationToken) =>
        database.ReadAsync<IReadOnlyList<RunEventEntry>>(async connection =>
        {
            await using var command = connection.Command(
                "SELECT id, name, data FROM run_events WHERE run_id = $run AND id > $after ORDER BY id;", ("$run", runId), ("$after", afterId));
            return await command.ReadAllAsync(
                reader => new RunEventEntry(reader.GetInt64(0), reader.GetString(1), reader.GetString(2)), cancellationToken);
        }, cancellationToken);

    public Task<IReadOnlyList<string>> RenewLeasesAsync(
        string replica, IReadOnlyCollection<string>? runIds, DateTimeOffset expiresAt, CancellationToken cancellationToken) =>
        database.WriteAsync<IReadOnlyList<string>>(async (connection, transaction) =>
        {
            await using var command = connection.Command(
                transaction,
                """
                UPDATE runs SET lease_expires_at = $expires
                WHERE replica = $replica AND status = 'running' AND ($ids IS NULL OR run_id IN (SELECT value FROM json_each($ids)))
                RETURNING run_id, cancel_requested;
                """,
                ("$replica", replica), ("$expires", expiresAt.ToUnixTimeMilliseconds()),
                ("$ids", runIds is null ? null : JsonSerializer.Serialize(runIds.ToArray(), RunsJsonContext.Default.StringArray)));
            var renewed = await command.ReadAllAsync(
                reader => (RunId: reader.GetString(0), CancelRequested: reader.GetInt64(1) != 0), cancellationToken);
            return [.. renewed.Where(run => run.CancelRequested).Select(run => run.RunId)];
        }, cancellationToken);

    public Task<bool> RequestCancelAsync(string runId, CancellationToken cancellationToken) =>
        database.WriteAsync(async (connection, transaction) =>
        {
            await using var command = connection.Command(
                transaction, "UPDATE runs SET cancel_requested = 1 WHERE run_id = $id AND status = 'running';", ("$id", runId));
            return await command.ExecuteNonQueryAsync(cancellationToken) == 1;
        }, cancellationToken);

    public Task<IReadOnlyList<RunRecord>> ClaimLapsedAsync(RunLease claimant, DateTimeOffset now, CancellationToken cancellationToken) =>
        database.WriteAsync<IReadOnlyList<RunRecord>>(async (connection, transaction) =>
        {
            await using var command = connection.Command(
                transaction,
                """
                UPDATE runs SET replica = $replica, lease_expires_at = $expires
                WHERE status = 'running' AND (lease_expires_at IS NULL OR lease_expires_at < $now)
                RETURNING record;
                """,
                ("$replica", claimant.Replica), ("$expires", claimant.ExpiresAt.ToUnixTimeMilliseconds()), ("$now", now.ToUnixTimeMilliseconds()));
            return await command.ReadAllAsync(reader => Deserialize(reader.GetString(0)), cancellationToken);
        }, cancellationToken);

    private Task<IReadOnlyList<RunRecord>> QueryRecordsAsync(
        string sql, CancellationToken cancellationToken, params (string Name, object? Value)[] parameters) =>
        database.ReadAsync<IReadOnlyList<RunRecord>>(async connection =>
        {
            await using var command = connection.Command(sql, parameters);
            return await command.ReadAllAsync(reader => Deserialize(reader.GetString(0)), cancellationToken);
        }, cancellationToken);

    private static string Serialize(RunRecord run) => JsonSerializer.Serialize(run, RunsJsonContext.Default.RunRecord);

    /// <summary>A row of <c>record, owner</c>.</summary>
    private static (RunRecord Run, string? Owner) RecordAndOwner(DbDataReader reader) =>
        (Deserialize(reader.GetString(0)), reader.IsDBNull(1) ? null : reader.GetString(1));

    private static RunRecord Deserialize(string record) =>
        JsonSerializer.Deserialize(record, RunsJsonContext.Default.RunRecord) ?? throw new SqliteException("A stored run record is empty.", 0);
}
