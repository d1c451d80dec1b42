using System.Diagnostics.Metrics;
using System.Text;
using Gateway.Telemetry;

namespace Gateway.Tests.Telemetry;

public sealed class PrometheusNamesTests
{
    [Theory]
    [InlineData("gateway.requests", "{request}", true, "gateway_requests_total")]
    [InlineData("gen_ai.client.operation.duration", "s", false, "gen_ai_client_operation_duration_seconds")]
    [InlineData("gateway.usage.cost", "USD", true, "gateway_usage_cost_usd_total")]
    [InlineData("gen_ai.client.token.usage", "{token}", false, "gen_ai_client_token_usage")]
    [InlineData("a-b.c", null, false, "a_b_c")]
    [InlineData("9lives", "By", false, "_9lives_bytes")]
    public void Metric_FollowsTheOpenTelemetryToPrometheusRules(string name, string? unit, bool isCounter, string expected) =>
        Assert.Equal(expected, PrometheusNames.Metric(name, unit, isCounter));

    [Fact]
    public void LabelValues_AreEscaped()
    {
        var builder = new StringBuilder();
        PrometheusNames.AppendLabelValue(builder, "a\"b\\c\nd");
        Assert.Equal("a\\\"b\\\\c\\nd", builder.ToString());
    }

    [Fact]
    public void Histogram_WritesCumulativeBuckets_SumAndCount()
    {
        using var meter = new Meter("test");
        var histogram = meter.CreateHistogram("x.latency", "s", "help \\ me", advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.5, 1] });
        var family = MetricFamily.For(histogram)!;
        KeyValuePair<string, object?>[] tags = [new("z", "1"), new("a.b", "q\"")];

        family.Record(0.25, tags);
        family.Record(1, tags);
        family.Record(4, tags);
        var output = new StringBuilder();
        family.WriteTo(output);

        Assert.Equal("""
            # HELP x_latency_seconds help \\ me
            # TYPE x_latency_seconds histogram
            x_latency_seconds_bucket{a_b="q\"",z="1",le="0.5"} 1
            x_latency_seconds_bucket{a_b="q\"",z="1",le="1"} 2
            x_latency_seconds_bucket{a_b="q\"",z="1",le="+Inf"} 3
            x_latency_seconds_sum{a_b="q\"",z="1"} 5.25
            x_latency_seconds_count{a_b="q\"",z="1"} 3

            """.ReplaceLineEndings("\n"), output.ToString());
    }
}
