using System.Text.Json;
using Gateway.Flows;
using Microsoft.Data.Sqlite;

namespace Gateway.Storage;

/// <summary>Flows as JSON documents keyed by id.</summary>
internal sealed class SqliteFlowStore(SqliteDatabase database) : IFlowStore
{
    public Task<string?> TryCreateAsync(Flow flow, CancellationToken cancellationToken)
    {
        // Serialized and digested before the single writer, as run records are.
        var document = Serialize(flow);
        var tag = FlowTag.Of(document);
        return database.WriteAsync(async (connection, transaction) =>
        {
            await using var command = connection.Command(
                transaction, "INSERT INTO flows (id, document) VALUES ($id, $document) ON CONFLICT (id) DO NOTHING;",
                ("$id", flow.Id), ("$document", document));
            return await command.ExecuteNonQueryAsync(cancellationToken) == 1 ? tag : null;
        }, cancellationToken);
    }

    public Task<FlowChange> ReplaceAsync(Flow flow, Func<string, bool>? precondition, CancellationToken cancellationToken)
    {
        var document = Serialize(flow);
        return ChangeAsync(
            flow.Id!,
            precondition,
            "UPDATE flows SET document = $document WHERE id = $id;",
            [("$id", flow.Id), ("$document", document)],
            FlowTag.Of(document),
            cancellationToken);
    }

    public Task<FlowChange> DeleteAsync(string id, Func<string, bool>? precondition, CancellationToken cancellationToken) =>
        ChangeAsync(id, precondition, "DELETE FROM flows WHERE id = $id;", [("$id", id)], newTag: null, cancellationToken);

    public Task<StoredFlow?> GetAsync(string id, CancellationToken cancellationToken) =>
        database.ReadAsync(async connection =>
        {
            await using var command = connection.Command("SELECT document FROM flows WHERE id = $id;", ("$id", id));
            return await command.ExecuteScalarAsync(cancellationToken) is string document ? new StoredFlow(Deserialize(document), document) : null;
        }, cancellationToken);

    public Task<IReadOnlyList<Flow>> ListAsync(CancellationToken cancellationToken) =>
        database.ReadAsync<IReadOnlyList<Flow>>(async connection =>
        {
            await using var command = connection.Command("SELECT document FROM flows ORDER BY id;");
            return await command.ReadAllAsync(reader => Deserialize(reader.GetString(0)), cancellationToken);
        }, cancellationToken);

    /// <summary>
    /// Runs <paramref name="sql"/> on the flow with <paramref name="id"/>; with a precondition, after testing the flow's
    /// tag in the same transaction, behind the single writer, so that no other write comes between the test and the change.
    /// </summary>
    private Task<FlowChange> ChangeAsync(
        string id, Func<string, bool>? precondition, string sql, (string Name, object? Value)[] parameters, string? newTag, CancellationToken cancellationToken) =>
        database.WriteAsync(async (connection, transaction) =>
        {
            if (precondition is not null)
            {
                await using var read = connection.Command(transaction, "SELECT document FROM flows WHERE id = $id;", ("$id", id));
                if (FlowChange.FailedPrecondition(await read.ExecuteScalarAsync(cancellationToken) as string, precondition) is { } refusal)
                {
                    return refusal;
                }
            }

            await using var change = connection.Command(transaction, sql, parameters);
            return await change.ExecuteNonQueryAsync(cancellationToken) == 1
                ? new FlowChange(FlowChangeOutcome.Done, newTag)
                : new FlowChange(FlowChangeOutcome.NotFound);
        }, cancellationToken);

    private static string Serialize(Flow flow) => JsonSerializer.Serialize(flow, FlowsJsonContext.Default.Flow);

    private static Flow Deserialize(string document) =>
        JsonSerializer.Deserialize(document, FlowsJsonContext.Default.Flow) ?? throw new SqliteException("A stored flow document is empty.", 0);
}
