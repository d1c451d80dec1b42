using System.Diagnostics.Metrics;
using System.Text;
using Gateway.Telemetry;

namespace Gateway.Tests.Telemetry;

public sealed class MetricFamilyTests
{
    [Fact]
    public void Histogram_WritesCumulativeBuckets_SumAndCount_WithLabelsSortedAndEscaped()
    {
        using var meter = new Meter("test");
        var histogram = meter.CreateHistogram("x.latency", "s", "help \\ me", advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.5, 1] });
        var family = MetricFamily.For(histogram)!;
        KeyValuePair<string, object?>[] tags = [new("z", 1), new("a.b", "q\"\\\n")];

        family.Record(0.25, tags);
        family.Record(1, tags);
        family.Record(4, tags);

        Assert.Equal("""
            # HELP x_latency_seconds help \\ me
            # TYPE x_latency_seconds histogram
            x_latency_seconds_bucket{a_b="q\"\\\n",z="1",le="0.5"} 1
            x_latency_seconds_bucket{a_b="q\"\\\n",z="1",le="1"} 2
            x_latency_seconds_bucket{a_b="q\"\\\n",z="1",le="+Inf"} 3
            x_latency_seconds_sum{a_b="q\"\\\n",z="1"} 5.25
            x_latency_seconds_count{a_b="q\"\\\n",z="1"} 3

            """.ReplaceLineEndings("\n"), Render(family));
    }

    [Fact]
    public void Counter_SumsPerLabelSet_WhateverTheTagOrder()
    {
        using var meter = new Meter("test");
        var family = MetricFamily.For(meter.CreateCounter<long>("gateway.things", "{thing}", "Things."))!;

        family.Record(2, [new("b", "x"), new("a", "y")]);
        family.Record(3, [new("a", "y"), new("b", "x")]);
        family.Record(1, [new("a", "other"), new("b", "x")]);

        Assert.Equal("""
            # HELP gateway_things_total Things.
            # TYPE gateway_things_total counter
            gateway_things_total{a="other",b="x"} 1
            gateway_things_total{a="y",b="x"} 5

            """.ReplaceLineEndings("\n"), Render(family));
    }

    /// <summary>ASP.NET Core tags a request <c>aspnetcore.request.is_unhandled</c>: "true", as OTLP writes it, not .NET's "True".</summary>
    [Fact]
    public void ABooleanLabel_IsWrittenInLowerCase()
    {
        using var meter = new Meter("test");
        var family = MetricFamily.For(meter.CreateCounter<long>("gateway.things", "{thing}", "Things."))!;

        family.Record(1, [new("unhandled", true)]);
        family.Record(1, [new("unhandled", false)]);

        Assert.Equal("""
            # HELP gateway_things_total Things.
            # TYPE gateway_things_total counter
            gateway_things_total{unhandled="false"} 1
            gateway_things_total{unhandled="true"} 1

            """.ReplaceLineEndings("\n"), Render(family));
    }

    /// <summary>Every model call records a handful of measurements: a series seen before must cost no allocation.</summary>
    [Fact]
    public void Record_OfAKnownSeries_AllocatesNothing()
    {
        using var meter = new Meter("test");
        var family = MetricFamily.For(meter.CreateHistogram<double>("gateway.latency", "s"))!;
        KeyValuePair<string, object?>[] tags = [new("gen_ai.request.model", "up"), new("http.response.status_code", 200), new("gateway.outcome", "success")];
        family.Record(1, tags);

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 100; i++)
        {
            family.Record(i, tags);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    private static string Render(MetricFamily family)
    {
        var output = new StringBuilder();
        family.WriteTo(output);
        return output.ToString();
    }
}
