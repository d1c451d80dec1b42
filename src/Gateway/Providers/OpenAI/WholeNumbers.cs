using System.Text.Json;
using System.Text.Json.Nodes;

namespace Gateway.Providers.OpenAI;

/// <summary>
/// A whole, non-streamed completion's numbers the OpenAI SDK reads as integers, as <see cref="StreamingChunkReader"/>
/// reads a stream's: a token count written with a fraction (<c>7.0</c>) becomes its whole part, and a <c>created</c>
/// that is no Unix time in seconds (milliseconds, a fraction) becomes 0, no time. The SDK failed the whole answer on
/// either, after the retries it earned as a malformed response.
/// </summary>
internal static class WholeNumbers
{
    /// <summary><c>DateTimeOffset.MaxValue</c> in Unix seconds: the latest time a <c>created</c> can name.</summary>
    private const long LatestUnixSeconds = 253_402_300_799;

    /// <summary>Whether a <c>created</c> is a time the SDK and <see cref="DateTimeOffset"/> can read (0 being none).</summary>
    public static bool IsUnixSeconds(long seconds) => seconds is >= 0 and <= LatestUnixSeconds;

    /// <returns>The payload rewritten, or null when it needs no change (or is not a JSON object: the SDK reports that).</returns>
    public static byte[]? In(ReadOnlySpan<byte> payload)
    {
        if (AllWhole(payload))
        {
            return null;
        }

        JsonNode? root;
        try
        {
            root = JsonNode.Parse(payload);
        }
        catch (JsonException)
        {
            return null;
        }

        if (root is not JsonObject completion)
        {
            return null;
        }

        var changed = false;
        if (completion["created"] is JsonValue created && !(created.TryGetValue<long>(out var seconds) && IsUnixSeconds(seconds)))
        {
            completion["created"] = 0;
            changed = true;
        }

        if (completion["usage"] is JsonObject usage)
        {
            changed |= Counts(usage);
        }

        return changed ? JsonSerializer.SerializeToUtf8Bytes(completion) : null;
    }

    /// <summary>
    /// One pass of a reader, allocating nothing: whether <c>created</c> and every number under <c>usage</c> are already
    /// what the SDK reads. Nearly every answer is, and goes to the SDK as it came.
    /// </summary>
    private static bool AllWhole(ReadOnlySpan<byte> payload)
    {
        var reader = new Utf8JsonReader(payload);
        var usageDepth = -1;
        var createdNext = false;
        try
        {
            while (reader.Read())
            {
                switch (reader.TokenType)
                {
                    case JsonTokenType.PropertyName when reader.CurrentDepth == 1:
                        createdNext = reader.ValueTextEquals("created"u8);
                        if (reader.ValueTextEquals("usage"u8))
                        {
                            usageDepth = 1;
                        }

                        break;
                    case JsonTokenType.EndObject when reader.CurrentDepth == usageDepth:
                        usageDepth = -1;
                        break;
                    case JsonTokenType.Number when createdNext && reader.CurrentDepth == 1:
                        if (!reader.TryGetInt64(out var seconds) || !IsUnixSeconds(seconds))
                        {
                            return false;
                        }

                        break;
                    case JsonTokenType.Number when usageDepth >= 0 && !reader.TryGetInt64(out _):
                        return false;
                }
            }
        }
        catch (JsonException)
        {
            // Not JSON: the SDK reports what is wrong with it.
        }

        return true;
    }

    /// <summary>Makes the usage's counts (and its details' counts) whole; true when one was not.</summary>
    private static bool Counts(JsonObject usage)
    {
        var changed = false;
        foreach (var (name, value) in usage.ToList())
        {
            if (value is JsonObject details)
            {
                changed |= Counts(details);
            }
            else if (value is JsonValue number && !number.TryGetValue<long>(out _) && number.TryGetValue<double>(out var fraction))
            {
                usage[name] = (long)Math.Truncate(fraction);
                changed = true;
            }
        }

        return changed;
    }
}
