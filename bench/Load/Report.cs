using System.Globalization;
using System.Text;

namespace Bench.Load;

/// <summary>
/// Prints the results file as one Markdown table. Added TTFT is against the direct run at the same concurrency,
/// tokens/s as a share of nginx's: ratios within one run are what stay comparable on a shared, noisy machine.
/// </summary>
internal static class Report
{
    public static int Print(Options options)
    {
        var rows = File.ReadLines(options.Text("--results")).Where(l => l.Length > 0).Select(Row.FromTsv).ToList();
        var table = new StringBuilder();
        table.AppendLine("| target | conc | streams | errors | TTFT p50 ms | TTFT p99 ms | added p50 ms | added p99 ms | stream p50 ms | req/s | tokens/s | tokens/s vs nginx | CPU ms / 1k tokens | KiB alloc / stream | peak RSS MB |");
        table.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var row in rows)
        {
            var direct = rows.FirstOrDefault(r => r.Target == "direct" && r.Concurrency == row.Concurrency);
            var nginx = rows.FirstOrDefault(r => r.Target == "nginx" && r.Concurrency == row.Concurrency);
            var isDirect = ReferenceEquals(row, direct);
            table.AppendLine(string.Create(CultureInfo.InvariantCulture,
                $"| {row.Target} | {row.Concurrency} | {row.Streams} | {row.Errors} | {row.TtftP50Ms:F2} | {row.TtftP99Ms:F2} | "
                + $"{(direct is null || isDirect ? "–" : (row.TtftP50Ms - direct.TtftP50Ms).ToString("+0.00;-0.00", CultureInfo.InvariantCulture))} | "
                + $"{(direct is null || isDirect ? "–" : (row.TtftP99Ms - direct.TtftP99Ms).ToString("+0.00;-0.00", CultureInfo.InvariantCulture))} | "
                + $"{row.StreamP50Ms:F1} | {row.RequestsPerSecond:F0} | {row.TokensPerSecond:F0} | "
                + $"{(nginx is null ? "–" : (row.TokensPerSecond / nginx.TokensPerSecond).ToString("P0", CultureInfo.InvariantCulture))} | "
                + $"{Cell(row.CpuMsPer1kTokens, "F1")} | {Cell(row.BytesPerStream / 1024, "F1")} | {Cell(row.PeakRssMb, "F0")} |"));
        }

        Console.WriteLine(table.ToString());
        if (options.Text("--hold", "") is { Length: > 0 } hold && File.Exists(hold))
        {
            Console.WriteLine("| memory run | streams | ok | errors | all open after s | max RSS MB (sampled) | peak RSS MB (VmHWM) | took s |");
            Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|");
            foreach (var line in File.ReadLines(hold).Where(l => l.Length > 0))
            {
                Console.WriteLine("| " + line.Replace("\t", " | ", StringComparison.Ordinal) + " |");
            }
        }

        return 0;
    }

    private static string Cell(double value, string format) =>
        double.IsNaN(value) ? "–" : value.ToString(format, CultureInfo.InvariantCulture);
}
