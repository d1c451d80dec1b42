using Microsoft.Data.Sqlite;

namespace Gateway.Storage;

/// <summary>Builds parameterised commands in one line: <c>connection.Command(sql, ("$id", id))</c>.</summary>
internal static class SqliteCommands
{
    public static SqliteCommand Command(
        this SqliteConnection connection, string sql, params ReadOnlySpan<(string Name, object? Value)> parameters) =>
        connection.Command(null, sql, parameters);

    public static SqliteCommand Command(
        this SqliteConnection connection, SqliteTransaction? transaction, string sql, params ReadOnlySpan<(string Name, object? Value)> parameters)
    {
        var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value ?? DBNull.Value);
        }

        return command;
    }

    /// <summary>Hands each row to <paramref name="visit"/> as it is read, keeping none: for rows too large to hold all at once.</summary>
    public static async Task EachAsync(this SqliteCommand command, Action<SqliteDataReader> visit, CancellationToken cancellationToken)
    {
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            visit(reader);
        }
    }

    /// <summary>Runs <paramref name="command"/> and maps each row it returns.</summary>
    public static async Task<IReadOnlyList<T>> ReadAllAsync<T>(
        this SqliteCommand command, Func<SqliteDataReader, T> map, CancellationToken cancellationToken)
    {
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var rows = new List<T>();
        while (await reader.ReadAsync(cancellationToken))
        {
            rows.Add(map(reader));
        }

        return rows;
    }
}
