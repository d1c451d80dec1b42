using System.Text.Json;
using Gateway.Flows;

namespace Gateway.Storage;

/// <summary>Flows as JSON documents keyed by id.</summary>
internal sealed class PostgresFlowStore(PostgresDatabase database) : IFlowStore
{
    public async Task<string?> TryCreateAsync(Flow flow, CancellationToken cancellationToken)
    {
        var document = Serialize(flow);
        await using var command = database.DataSource.Command(
            "INSERT INTO flows (id, document) VALUES (@id, @document) ON CONFLICT (id) DO NOTHING;", ("id", flow.Id), ("document", document));
        return await command.ExecuteNonQueryAsync(cancellationToken) == 1 ? FlowTag.Of(document) : null;
    }

    public async Task<FlowChange> ReplaceAsync(Flow flow, Func<string, bool>? precondition, CancellationToken cancellationToken)
    {
        var document = Serialize(flow);
        return await ChangeAsync(
            flow.Id!,
            precondition,
            "UPDATE flows SET document = @document WHERE id = @id;",
            [("id", flow.Id), ("document", document)],
            FlowTag.Of(document),
            cancellationToken);
    }

    public Task<FlowChange> DeleteAsync(string id, Func<string, bool>? precondition, CancellationToken cancellationToken) =>
        ChangeAsync(id, precondition, "DELETE FROM flows WHERE id = @id;", [("id", id)], newTag: null, cancellationToken);

    public async Task<StoredFlow?> GetAsync(string id, CancellationToken cancellationToken)
    {
        await using var command = database.DataSource.Command("SELECT document FROM flows WHERE id = @id;", ("id", id));
        return await command.ExecuteScalarAsync(cancellationToken) is string document ? new StoredFlow(Deserialize(document), document) : null;
    }

    public async Task<IReadOnlyList<Flow>> ListAsync(CancellationToken cancellationToken)
    {
        // COLLATE "C": ordered by code point, as SQLite orders text, whatever the database's locale.
        await using var command = database.DataSource.Command("SELECT document FROM flows ORDER BY id COLLATE \"C\";");
        return await command.ReadAllAsync(reader => Deserialize(reader.GetString(0)), cancellationToken);
    }

    /// <summary>
    /// Runs <paramref name="sql"/> on the flow with <paramref name="id"/>; with a precondition, in a transaction that
    /// first locks the flow's row and tests its tag, so that no other replica's write comes between the test and the change.
    /// </summary>
    private async Task<FlowChange> ChangeAsync(
        string id, Func<string, bool>? precondition, string sql, (string Name, object? Value)[] parameters, string? newTag, CancellationToken cancellationToken)
    {
        await using var connection = await database.DataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = precondition is null ? null : await connection.BeginTransactionAsync(cancellationToken);
        if (precondition is not null)
        {
            await using var read = connection.Command(transaction, "SELECT document FROM flows WHERE id = @id FOR UPDATE;", ("id", id));
            if (FlowChange.FailedPrecondition(await read.ExecuteScalarAsync(cancellationToken) as string, precondition) is { } refusal)
            {
                return refusal; // the transaction is rolled back as it is disposed
            }
        }

        await using var change = connection.Command(transaction, sql, parameters);
        var changed = await change.ExecuteNonQueryAsync(cancellationToken) == 1;
        if (transaction is not null)
        {
            await transaction.CommitAsync(cancellationToken);
        }

        return changed ? new FlowChange(FlowChangeOutcome.Done, newTag) : new FlowChange(FlowChangeOutcome.NotFound);
    }

    private static string Serialize(Flow flow) => JsonSerializer.Serialize(flow, FlowsJsonContext.Default.Flow);

    private static Flow Deserialize(string document) =>
        JsonSerializer.Deserialize(document, FlowsJsonContext.Default.Flow) ?? throw new InvalidDataException("A stored flow document is empty.");
}
