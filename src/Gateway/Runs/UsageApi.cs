using System.Globalization;
using Gateway.Hosting;
using Gateway.Security;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Gateway.Runs;

/// <summary><c>GET /api/usage</c>: tokens and cost of the stored runs, per model or per API key.</summary>
internal static class UsageApi
{
    private static readonly TimeSpan DefaultWindow = TimeSpan.FromDays(1);

    public static RouteHandlerBuilder MapUsageApi(this IEndpointRouteBuilder endpoints) =>
        endpoints.MapGet("/api/usage", GetUsageAsync)
            .WithTags("Runs")
            .WithName("GetUsage")
            .WithSummary("Sums the tokens and cost of runs created in [from, to) (ISO 8601; default: the last 24 h), grouped by model or by key.");

    /// <param name="from">Start, inclusive.</param>
    /// <param name="to">End, exclusive.</param>
    /// <param name="groupBy"><c>model</c> (default) or <c>key</c>.</param>
    /// <param name="caller">A client sees its own runs; an admin sees all.</param>
    /// <param name="runs">The run store.</param>
    /// <param name="timeProvider">The clock.</param>
    /// <param name="cancellationToken">The request's.</param>
    private static async Task<Results<Ok<UsageReport>, ValidationProblem>> GetUsageAsync(
        string? from, string? to, string? groupBy, CallerIdentity caller, IRunStore runs, TimeProvider timeProvider,
        CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>();
        var end = Parse(to, "to", errors) ?? timeProvider.GetUtcNow();
        // The default window stops at the calendar's first day: a `to` within a day of it must not underflow.
        var start = Parse(from, "from", errors) ?? (end - DateTimeOffset.MinValue > DefaultWindow ? end - DefaultWindow : DateTimeOffset.MinValue);
        // An empty value (a form or a generated client sending every parameter) is one not given, as for every query here.
        var grouping = string.IsNullOrEmpty(groupBy) ? "model" : groupBy;
        if (grouping is not ("model" or "key"))
        {
            errors["groupBy"] = ["Must be 'model' or 'key'."];
        }

        if (errors.Count == 0 && start >= end)
        {
            // Named after what the caller sent: a `to` at the calendar's first instant leaves no room for the default `from`.
            if (string.IsNullOrEmpty(from))
            {
                errors["to"] = ["Must be after the calendar's first instant."];
            }
            else
            {
                errors["from"] = ["Must be before 'to'."];
            }
        }

        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors, detail: "The query is invalid.");
        }

        // Summed as the records are read, one at a time: each holds every node's output, and a month of them at once
        // could take more memory than the process has.
        var groups = new Dictionary<string, UsageTally>(StringComparer.Ordinal);
        await runs.VisitCreatedBetweenAsync(
            start, end, caller.IsAdmin ? null : caller.KeyName, (run, owner) => Tally(groups, run, owner, grouping), cancellationToken);
        return TypedResults.Ok(new UsageReport(start, end, grouping, [.. groups
            .OrderBy(group => group.Key, StringComparer.Ordinal)
            .Select(group => new UsageGroup(
                group.Key, group.Value.Runs, group.Value.Calls, group.Value.Total.InputTokens, group.Value.Total.OutputTokens, group.Value.Total.CostUsd))]));
    }

    private static void Tally(Dictionary<string, UsageTally> groups, RunRecord run, string? owner, string grouping)
    {
        HashSet<string>? counted = null;
        foreach (var node in run.Nodes.Values)
        {
            if (node.Usage is not { } usage)
            {
                continue;
            }

            var key = grouping == "key" ? owner ?? CallerIdentity.AnonymousName : node.Model ?? "(unknown)";
            var tally = groups.TryGetValue(key, out var found) ? found : groups[key] = new UsageTally();
            tally.Calls++;
            tally.Total = tally.Total.Add(usage);
            if ((counted ??= new HashSet<string>(StringComparer.Ordinal)).Add(key))
            {
                tally.Runs++;
            }
        }
    }

    /// <summary>One group's sums so far.</summary>
    private sealed class UsageTally
    {
        public int Runs { get; set; }

        public int Calls { get; set; }

        public TokenUsage Total { get; set; } = TokenUsage.Zero;
    }

    private static DateTimeOffset? Parse(string? value, string name, Dictionary<string, string[]> errors)
    {
        if (string.IsNullOrEmpty(value))
        {
            return null;
        }

        // The runtime's parser also takes "12/05/2026" or "Dec 5": an ISO 8601 date begins yyyy-MM-dd, and nothing else
        // is read, so that no one's date is taken for another day.
        if (value is [>= '0' and <= '9', >= '0' and <= '9', >= '0' and <= '9', >= '0' and <= '9', '-', >= '0' and <= '9', >= '0' and <= '9', '-', ..]
            && !QueryValues.HasOtherThanBareAscii(value)
            && DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var parsed))
        {
            return parsed.ToUniversalTime();
        }

        errors[name] = ["Must be an ISO 8601 date and time, e.g. 2026-11-21T00:00:00Z."];
        return null;
    }
}
