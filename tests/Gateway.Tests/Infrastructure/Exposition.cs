using System.Globalization;

namespace Gateway.Tests.Infrastructure;

/// <summary>A Prometheus text exposition read back as sample (<c>name{labels}</c>) → value.</summary>
public static class Exposition
{
    public static async Task<(string Text, Dictionary<string, double> Samples)> ScrapeAsync(GatewayHost gateway)
    {
        using var response = await gateway.Client.GetAsync("/metrics");
        response.EnsureSuccessStatusCode();
        Assert.Equal("text/plain; version=0.0.4; charset=utf-8", response.Content.Headers.ContentType?.ToString());
        var text = await response.Content.ReadAsStringAsync();
        return (text, Parse(text));
    }

    public static Dictionary<string, double> Parse(string text)
    {
        var samples = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var line in text.Split('\n'))
        {
            if (line.Length == 0 || line[0] == '#')
            {
                continue;
            }

            var space = line.LastIndexOf(' ');
            samples.Add(line[..space], double.Parse(line[(space + 1)..], CultureInfo.InvariantCulture));
        }

        return samples;
    }

    /// <summary>The samples of one metric, e.g. every <c>gateway_requests_total{...}</c>.</summary>
    public static Dictionary<string, double> Of(Dictionary<string, double> samples, string name) =>
        samples.Where(pair => pair.Key == name || pair.Key.StartsWith(name + "{", StringComparison.Ordinal))
            .ToDictionary(pair => pair.Key, pair => pair.Value, StringComparer.Ordinal);
}
