using System.Text.Json;
using Gateway.Flows;

namespace Gateway.Storage;

/// <summary>Flows as JSON documents keyed by id.</summary>
internal sealed class PostgresFlowStore(PostgresDatabase database) : IFlowStore
{
    public async Task<bool> TryCreateAsync(Flow flow, CancellationToken cancellationToken)
    {
        await using var command = database.DataSource.Command(
            "INSERT INTO flows (id, document) VALUES (@id, @document) ON CONFLICT (id) DO NOTHING;", ("id", flow.Id), ("document", Serialize(flow)));
        return await command.ExecuteNonQueryAsync(cancellationToken) == 1;
    }

    public async Task<bool> TryReplaceAsync(Flow flow, CancellationToken cancellationToken)
    {
        await using var command = database.DataSource.Command(
            "UPDATE flows SET document = @document WHERE id = @id;", ("id", flow.Id), ("document", Serialize(flow)));
        return await command.ExecuteNonQueryAsync(cancellationToken) == 1;
    }

    public async Task<bool> DeleteAsync(string id, CancellationToken cancellationToken)
    {
        await using var command = database.DataSource.Command("DELETE FROM flows WHERE id = @id;", ("id", id));
        return await command.ExecuteNonQueryAsync(cancellationToken) == 1;
    }

    public async Task<Flow?> GetAsync(string id, CancellationToken cancellationToken)
    {
        await using var command = database.DataSource.Command("SELECT document FROM flows WHERE id = @id;", ("id", id));
        return await command.ExecuteScalarAsync(cancellationToken) is string document ? Deserialize(document) : null;
    }

    public async Task<IReadOnlyList<Flow>> ListAsync(CancellationToken cancellationToken)
    {
        // COLLATE "C": ordered by code point, as SQLite orders text, whatever the database's locale.
        await using var command = database.DataSource.Command("SELECT document FROM flows ORDER BY id COLLATE \"C\";");
        return await command.ReadAllAsync(reader => Deserialize(reader.GetString(0)), cancellationToken);
    }

    private static string Serialize(Flow flow) => JsonSerializer.Serialize(flow, FlowsJsonContext.Default.Flow);

    private static Flow Deserialize(string document) =>
        JsonSerializer.Deserialize(document, FlowsJsonContext.Default.Flow) ?? throw new InvalidDataException("A stored flow document is empty.");
}
