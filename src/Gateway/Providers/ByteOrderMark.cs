namespace Gateway.Providers;

/// <summary>
/// UTF-8's byte order mark, which some (Windows-hosted) servers write before a body: it is not JSON, so a parser
/// refuses the body, and an answer or an error's message was lost.
/// </summary>
internal static class ByteOrderMark
{
    public static ReadOnlySpan<byte> Utf8 => "\uFEFF"u8;

    /// <summary>The body after its byte order mark, if it starts with one.</summary>
    public static ReadOnlySpan<byte> Skip(ReadOnlySpan<byte> body) => body.StartsWith(Utf8) ? body[Utf8.Length..] : body;

    /// <inheritdoc cref="Skip(ReadOnlySpan{byte})"/>
    public static ReadOnlyMemory<byte> Skip(ReadOnlyMemory<byte> body) => body.Span.StartsWith(Utf8) ? body[Utf8.Length..] : body;
}
