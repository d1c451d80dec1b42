using System.Globalization;

namespace Gateway.Telemetry;

/// <summary>
/// Writes a measurement's tags as a Prometheus label set — sorted by name, values escaped — into a per-thread buffer.
/// The result keys the series, so a series seen before is found without allocating: this runs on every measurement.
/// </summary>
internal static class LabelSet
{
    private const int MaxStackTags = 32;

    [ThreadStatic]
    private static char[]? _buffer;

    /// <summary>The label set, valid until this thread writes the next one.</summary>
    public static ReadOnlySpan<char> Write(ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        if (tags.IsEmpty)
        {
            return [];
        }

        Span<int> order = tags.Length <= MaxStackTags ? stackalloc int[tags.Length] : new int[tags.Length];
        SortByName(tags, order);
        var buffer = _buffer ??= new char[256];
        int written;
        while (!TryWrite(tags, order, buffer, out written))
        {
            buffer = _buffer = new char[buffer.Length * 2];
        }

        return buffer.AsSpan(0, written);
    }

    private static void SortByName(ReadOnlySpan<KeyValuePair<string, object?>> tags, Span<int> order)
    {
        for (var i = 0; i < order.Length; i++)
        {
            var j = i;
            while (j > 0 && string.CompareOrdinal(tags[order[j - 1]].Key, tags[i].Key) > 0)
            {
                order[j] = order[j - 1];
                j--;
            }

            order[j] = i;
        }
    }

    private static bool TryWrite(ReadOnlySpan<KeyValuePair<string, object?>> tags, ReadOnlySpan<int> order, Span<char> buffer, out int written)
    {
        written = 0;
        foreach (var index in order)
        {
            if ((written > 0 && !TryPut(buffer, ref written, ","))
                || !TryPut(buffer, ref written, PrometheusNames.Label(tags[index].Key))
                || !TryPut(buffer, ref written, "=\"")
                || !TryPutValue(buffer, ref written, tags[index].Value)
                || !TryPut(buffer, ref written, "\""))
            {
                return false;
            }
        }

        return true;
    }

    private static bool TryPutValue(Span<char> buffer, ref int written, object? value)
    {
        // As the OpenTelemetry exporters write a boolean (ASP.NET Core's aspnetcore.request.is_unhandled), not .NET's "True".
        if (value is bool flag)
        {
            return TryPut(buffer, ref written, flag ? "true" : "false");
        }

        // Numbers (a status code) format in place; anything whose text might need escaping goes through a string.
        if (value is ISpanFormattable formattable
            && formattable.TryFormat(buffer[written..], out var length, default, CultureInfo.InvariantCulture)
            && !buffer.Slice(written, length).ContainsAny('"', '\\', '\n'))
        {
            written += length;
            return true;
        }

        foreach (var c in value as string ?? Convert.ToString(value, CultureInfo.InvariantCulture) ?? "")
        {
            var escaped = c switch
            {
                '\\' => @"\\",
                '"' => "\\\"",
                '\n' => @"\n",
                _ => null,
            };
            if (escaped is null ? !TryPut(buffer, ref written, c) : !TryPut(buffer, ref written, escaped))
            {
                return false;
            }
        }

        return true;
    }

    private static bool TryPut(Span<char> buffer, ref int written, ReadOnlySpan<char> text)
    {
        if (!text.TryCopyTo(buffer[written..]))
        {
            return false;
        }

        written += text.Length;
        return true;
    }

    private static bool TryPut(Span<char> buffer, ref int written, char c)
    {
        if (written >= buffer.Length)
        {
            return false;
        }

        buffer[written++] = c;
        return true;
    }
}
