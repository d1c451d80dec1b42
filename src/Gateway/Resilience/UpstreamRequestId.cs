namespace Gateway.Resilience;

/// <summary>
/// The id an upstream gives its response (<c>x-request-id</c>: OpenAI, Azure OpenAI, vLLM, Groq; <c>request-id</c>:
/// Anthropic's compatible API). It is what the provider's support asks for when a call went wrong, so the gateway's
/// retry, fallback and summary lines carry it.
/// </summary>
internal static class UpstreamRequestId
{
    /// <summary>What a line says when the attempt brought no id (no headers, or a server that sends none).</summary>
    public const string None = "-";

    /// <summary>Longer than any provider's id: a longer value is not an id, and is not logged.</summary>
    private const int MaxLength = 200;

    /// <summary>The response's id, or null when it has none the gateway would log.</summary>
    public static string? Of(HttpResponseMessage response) =>
        Read(response, "x-request-id") ?? Read(response, "request-id");

    private static string? Read(HttpResponseMessage response, string header)
    {
        if (!response.Headers.NonValidated.TryGetValues(header, out var values))
        {
            return null;
        }

        string? id = null;
        foreach (var value in values)
        {
            id = value;
            break;
        }

        // The upstream's words go into log lines: only a plain token is taken, never a line break or a space that
        // could pass for another field of the line.
        if (id is null || id.Length is 0 or > MaxLength)
        {
            return null;
        }

        foreach (var c in id)
        {
            if (c is < '!' or > '~')
            {
                return null;
            }
        }

        return id;
    }
}
