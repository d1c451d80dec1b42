using System.Text.Json;
using Gateway.Flows;
using Microsoft.Data.Sqlite;

namespace Gateway.Storage;

/// <summary>Flows as JSON documents keyed by id.</summary>
internal sealed class SqliteFlowStore(SqliteDatabase database) : IFlowStore
{
    public Task<bool> TryCreateAsync(Flow flow, CancellationToken cancellationToken) =>
        database.WriteAsync(async (connection, transaction) =>
        {
            await using var command = connection.Command(
                transaction, "INSERT INTO flows (id, document) VALUES ($id, $document) ON CONFLICT (id) DO NOTHING;",
                ("$id", flow.Id), ("$document", Serialize(flow)));
            return await command.ExecuteNonQueryAsync(cancellationToken) == 1;
        }, cancellationToken);

    public Task<bool> TryReplaceAsync(Flow flow, CancellationToken cancellationToken) =>
        database.WriteAsync(async (connection, transaction) =>
        {
            await using var command = connection.Command(
                transaction, "UPDATE flows SET document = $document WHERE id = $id;", ("$id", flow.Id), ("$document", Serialize(flow)));
            return await command.ExecuteNonQueryAsync(cancellationToken) == 1;
        }, cancellationToken);

    public Task<bool> DeleteAsync(string id, CancellationToken cancellationToken) =>
        database.WriteAsync(async (connection, transaction) =>
        {
            await using var command = connection.Command(transaction, "DELETE FROM flows WHERE id = $id;", ("$id", id));
            return await command.ExecuteNonQueryAsync(cancellationToken) == 1;
        }, cancellationToken);

    public Task<Flow?> GetAsync(string id, CancellationToken cancellationToken) =>
        database.ReadAsync(async connection =>
        {
            await using var command = connection.Command("SELECT document FROM flows WHERE id = $id;", ("$id", id));
            return await command.ExecuteScalarAsync(cancellationToken) is string document ? Deserialize(document) : null;
        }, cancellationToken);

    public Task<IReadOnlyList<Flow>> ListAsync(CancellationToken cancellationToken) =>
        database.ReadAsync<IReadOnlyList<Flow>>(async connection =>
        {
            await using var command = connection.Command("SELECT document FROM flows ORDER BY id;");
            return await command.ReadAllAsync(reader => Deserialize(reader.GetString(0)), cancellationToken);
        }, cancellationToken);

    private static string Serialize(Flow flow) => JsonSerializer.Serialize(flow, FlowsJsonContext.Default.Flow);

    private static Flow Deserialize(string document) =>
        JsonSerializer.Deserialize(document, FlowsJsonContext.Default.Flow) ?? throw new SqliteException("A stored flow document is empty.", 0);
}
