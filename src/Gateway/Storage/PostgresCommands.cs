using Npgsql;

namespace Gateway.Storage;

/// <summary>Builds parameterised commands in one line: <c>dataSource.Command(sql, ("id", id))</c>.</summary>
internal static class PostgresCommands
{
    public static NpgsqlCommand Command(this NpgsqlDataSource dataSource, string sql, params ReadOnlySpan<(string Name, object? Value)> parameters) =>
        WithParameters(dataSource.CreateCommand(sql), parameters);

    public static NpgsqlCommand Command(
        this NpgsqlConnection connection, NpgsqlTransaction? transaction, string sql, params ReadOnlySpan<(string Name, object? Value)> parameters) =>
        WithParameters(new NpgsqlCommand(sql, connection, transaction), parameters);

    public static NpgsqlBatchCommand BatchCommand(string sql, params ReadOnlySpan<(string Name, object? Value)> parameters)
    {
        var command = new NpgsqlBatchCommand(sql);
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value ?? DBNull.Value);
        }

        return command;
    }

    /// <summary>Hands each row to <paramref name="visit"/> as it is read, keeping none: for rows too large to hold all at once.</summary>
    public static async Task EachAsync(this NpgsqlCommand command, Action<NpgsqlDataReader> visit, CancellationToken cancellationToken)
    {
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            visit(reader);
        }
    }

    /// <summary>Runs <paramref name="command"/> and maps each row it returns.</summary>
    public static async Task<IReadOnlyList<T>> ReadAllAsync<T>(
        this NpgsqlCommand command, Func<NpgsqlDataReader, T> map, CancellationToken cancellationToken)
    {
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var rows = new List<T>();
        while (await reader.ReadAsync(cancellationToken))
        {
            rows.Add(map(reader));
        }

        return rows;
    }

    private static NpgsqlCommand WithParameters(NpgsqlCommand command, ReadOnlySpan<(string Name, object? Value)> parameters)
    {
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value ?? DBNull.Value);
        }

        return command;
    }
}
