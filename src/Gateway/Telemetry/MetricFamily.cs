using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Text;

namespace Gateway.Telemetry;

/// <summary>One instrument's series, aggregated for Prometheus: a sum per label set, or histogram buckets.</summary>
internal sealed class MetricFamily
{
    private static readonly double[] DefaultBoundaries = [0, 5, 10, 25, 50, 75, 100, 250, 500, 750, 1000, 2500, 5000, 7500, 10000];

    private readonly ConcurrentDictionary<string, Series> _series = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Series>.AlternateLookup<ReadOnlySpan<char>> _seriesByLabels;
    private readonly double[]? _boundaries;

    private MetricFamily(Instrument instrument, string type, bool isObservedGauge, double[]? boundaries)
    {
        Type = type;
        IsObservedGauge = isObservedGauge;
        _boundaries = boundaries;
        _seriesByLabels = _series.GetAlternateLookup<ReadOnlySpan<char>>();
        Name = PrometheusNames.Metric(instrument.Name, instrument.Unit, isCounter: type == "counter");
        Help = PrometheusNames.Help(instrument.Description ?? instrument.Name);
    }

    public string Name { get; }

    public string Help { get; }

    /// <summary><c>counter</c>, <c>gauge</c> or <c>histogram</c>.</summary>
    public string Type { get; }

    /// <summary>An observable gauge: its series are only those its callback reports at this scrape.</summary>
    public bool IsObservedGauge { get; }

    public static MetricFamily? For(Instrument instrument) => instrument switch
    {
        Counter<long> or Counter<int> or Counter<double> or ObservableCounter<long> or ObservableCounter<double> =>
            new MetricFamily(instrument, "counter", isObservedGauge: false, null),
        UpDownCounter<long> or UpDownCounter<int> or UpDownCounter<double> => new MetricFamily(instrument, "gauge", isObservedGauge: false, null),
        ObservableGauge<int> or ObservableGauge<long> or ObservableGauge<double> => new MetricFamily(instrument, "gauge", isObservedGauge: true, null),
        Histogram<long> h => new MetricFamily(instrument, "histogram", false, h.Advice?.HistogramBucketBoundaries?.Select(b => (double)b).ToArray() ?? DefaultBoundaries),
        Histogram<int> h => new MetricFamily(instrument, "histogram", false, h.Advice?.HistogramBucketBoundaries?.Select(b => (double)b).ToArray() ?? DefaultBoundaries),
        Histogram<double> h => new MetricFamily(instrument, "histogram", false, h.Advice?.HistogramBucketBoundaries?.ToArray() ?? DefaultBoundaries),
        _ => null,
    };

    public void Record(double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var labels = LabelSet.Write(tags);
        if (!_seriesByLabels.TryGetValue(labels, out var series))
        {
            series = _series.GetOrAdd(labels.ToString(), static (_, boundaries) => new Series(boundaries), _boundaries);
        }

        lock (series)
        {
            if (IsObservedGauge)
            {
                series.Value = value;
            }
            else
            {
                series.Value += value;
            }

            if (_boundaries is not null)
            {
                var bucket = Array.BinarySearch(_boundaries, value);
                series.Buckets![bucket >= 0 ? bucket : ~bucket]++;
                series.Count++;
            }
        }
    }

    /// <summary>Forgets an observed gauge's series before its callback reports the current ones.</summary>
    public void ClearObserved()
    {
        if (IsObservedGauge)
        {
            _series.Clear();
        }
    }

    public void WriteTo(StringBuilder output)
    {
        if (_series.IsEmpty)
        {
            return;
        }

        output.Append("# HELP ").Append(Name).Append(' ').Append(Help).Append('\n');
        output.Append("# TYPE ").Append(Name).Append(' ').Append(Type).Append('\n');
        foreach (var (labels, series) in _series.OrderBy(pair => pair.Key, StringComparer.Ordinal))
        {
            lock (series)
            {
                if (_boundaries is null)
                {
                    Sample(output, Name, labels, null, series.Value);
                    continue;
                }

                long cumulative = 0;
                for (var i = 0; i < _boundaries.Length; i++)
                {
                    cumulative += series.Buckets![i];
                    Sample(output, Name + "_bucket", labels, PrometheusNames.Value(_boundaries[i]), cumulative);
                }

                Sample(output, Name + "_bucket", labels, "+Inf", series.Count);
                Sample(output, Name + "_sum", labels, null, series.Value);
                Sample(output, Name + "_count", labels, null, series.Count);
            }
        }
    }

    private static void Sample(StringBuilder output, string name, string labels, string? le, double value)
    {
        output.Append(name);
        if (labels.Length > 0 || le is not null)
        {
            output.Append('{').Append(labels);
            if (le is not null)
            {
                output.Append(labels.Length > 0 ? ",le=\"" : "le=\"").Append(le).Append('"');
            }

            output.Append('}');
        }

        output.Append(' ').Append(PrometheusNames.Value(value)).Append('\n');
    }

    private sealed class Series(double[]? boundaries)
    {
        public double Value;
        public long Count;
        public readonly long[]? Buckets = boundaries is null ? null : new long[boundaries.Length + 1];
    }
}
