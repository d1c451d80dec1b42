// How many run events a second the PostgreSQL run store keeps, with runs writing at once: each run appends its
// events one after another, as a run's coordinator does. "inline" is the store as it was until 2026-12-05, a NOTIFY
// in each event's own transaction; "after" is the store as it is, the event alone, its notice sent afterwards by
// PostgresEventNotices. The two alternate, each on a fresh database, so a shared machine's drift falls on both.
//
//   dotnet bench/RunEvents/bin/Release/net10.0/RunEvents.dll --server "Host=...;Username=..." [--rounds 3] [--events 300]
//
// Run it through bench/run-events.sh, which starts a PostgreSQL with the server's default durability (a commit waits
// for the disk) and stops it afterwards.
using System.Diagnostics;
using System.Globalization;
using Gateway.Runs;
using Gateway.Storage;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Npgsql;

var server = Argument("--server") ?? throw new ArgumentException("--server \"connection string\" is required");
var rounds = int.Parse(Argument("--rounds") ?? "3", CultureInfo.InvariantCulture);
var eventsPerRun = int.Parse(Argument("--events") ?? "300", CultureInfo.InvariantCulture);
int[] concurrencies = [1, 8, 28];

var rates = new Dictionary<(string Store, int Runs), List<double>>();
for (var round = 1; round <= rounds; round++)
{
    foreach (var runs in concurrencies)
    {
        foreach (var inline in new[] { true, false })
        {
            var rate = await MeasureAsync(runs, inline);
            var key = (inline ? "inline" : "after", runs);
            (rates.TryGetValue(key, out var list) ? list : rates[key] = []).Add(rate);
            Console.Error.WriteLine($"round {round}: {key.Item1,-6} {runs,2} runs {rate,7:F0} events/s");
        }
    }
}

Console.WriteLine($"run events stored per second, median of {rounds} rounds, {eventsPerRun} events a run");
Console.WriteLine("runs   NOTIFY in the event's transaction   notice after the commit   after / inline");
foreach (var runs in concurrencies)
{
    var inline = Median(rates[("inline", runs)]);
    var after = Median(rates[("after", runs)]);
    Console.WriteLine($"{runs,4}   {inline,33:F0}   {after,23:F0}   {after / inline,14:F2}");
}

async Task<double> MeasureAsync(int runs, bool inline)
{
    var name = "bench_" + Guid.NewGuid().ToString("N");
    await using (var admin = NpgsqlDataSource.Create(server))
    {
        await using var create = admin.CreateCommand($"CREATE DATABASE {name};");
        await create.ExecuteNonQueryAsync();
    }

    var connectionString = new NpgsqlConnectionStringBuilder(server) { Database = name }.ConnectionString;
    await using var database = new PostgresDatabase(Options.Create(new StorageOptions { Provider = StorageOptions.Postgres, ConnectionString = connectionString }));
    await new PostgresSchema(database).MigrateAsync(CancellationToken.None);
    await using var notices = new PostgresEventNotices(database, NullLogger<PostgresEventNotices>.Instance);
    var store = new PostgresRunStore(database, notices);
    Func<string, RunEventEntry, Task> append = inline
        ? (runId, entry) => AppendWithNotifyAsync(database, runId, entry)
        : (runId, entry) => store.AppendEventAsync(runId, entry, CancellationToken.None);

    var clock = Stopwatch.StartNew();
    await Task.WhenAll(Enumerable.Range(0, runs).Select(run => Task.Run(async () =>
    {
        for (var id = 1; id <= eventsPerRun; id++)
        {
            await append($"run-{run}", new RunEventEntry(id, "token", """{"text":" lorem"}"""));
        }
    })));
    return runs * eventsPerRun / clock.Elapsed.TotalSeconds;
}

// The store's append until 2026-12-05: the event and its NOTIFY in one implicit transaction.
static async Task AppendWithNotifyAsync(PostgresDatabase database, string runId, RunEventEntry entry)
{
    await using var batch = database.DataSource.CreateBatch();
    batch.BatchCommands.Add(PostgresCommands.BatchCommand(
        "INSERT INTO run_events (run_id, id, name, data) VALUES (@run, @id, @name, @data);",
        ("run", runId), ("id", entry.Id), ("name", entry.Name), ("data", entry.Data)));
    batch.BatchCommands.Add(PostgresCommands.BatchCommand(
        $"SELECT pg_notify('{PostgresChannels.RunEvents}', @run || ':' || @id::text);", ("run", runId), ("id", entry.Id)));
    await batch.ExecuteNonQueryAsync();
}

static double Median(List<double> values)
{
    var sorted = values.Order().ToList();
    return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[(sorted.Count / 2) - 1] + sorted[sorted.Count / 2]) / 2;
}

string? Argument(string name)
{
    var index = Array.IndexOf(args, name);
    return index >= 0 && index + 1 < args.Length ? args[index + 1] : null;
}
