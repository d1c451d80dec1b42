namespace Gateway.Tests.Infrastructure;

/// <summary>What <see cref="FakeUpstream"/> does with one request. The defaults behave like OpenAI.</summary>
public sealed record UpstreamScript
{
    /// <summary>The HTTP status; anything but 200 answers with <see cref="ErrorBody"/> and nothing else.</summary>
    public int Status { get; init; } = 200;

    public string ErrorBody { get; init; } = """{"error":{"message":"scripted failure","type":"server_error","param":null,"code":null}}""";

    public string? RetryAfter { get; init; }

    /// <summary>An error status's body: its first half sent with the headers, the rest this much later.</summary>
    public TimeSpan? ErrorBodyStall { get; init; }

    /// <summary>An error status's body: its first half sent with the headers, then, 300 ms later, the connection reset.</summary>
    public bool ErrorBodyCut { get; init; }

    /// <summary>The content type of a 200 (null: OpenAI's, <c>text/event-stream</c> or <c>application/json</c>; "": none).</summary>
    public string? ContentType { get; init; }

    /// <summary>Answers a streamed request as a non-streamed one (the whole completion, or <see cref="CompletionBody"/>), as some servers do.</summary>
    public bool IgnoreStream { get; init; }

    /// <summary>A non-streamed 200's body, sent verbatim in place of the completion.</summary>
    public string? CompletionBody { get; init; }

    /// <summary>Further response headers (<c>Set-Cookie</c>, <c>Location</c>), sent with any status.</summary>
    public IReadOnlyDictionary<string, string>? Headers { get; init; }

    /// <summary>The tokens to stream; null streams the last user message back word by word.</summary>
    public IReadOnlyList<string>? Tokens { get; init; }

    public TimeSpan TokenDelay { get; init; }

    /// <summary>The finish reason of the last chunk, sent as a JSON string; null sends none.</summary>
    public string? FinishReason { get; init; } = "stop";

    /// <summary>The <c>finish_reason</c> of every chunk before the last (null, as OpenAI sends; Ollama and SGLang send "").</summary>
    public string? ContentFinishReason { get; init; }

    public bool OmitId { get; init; }

    public bool OmitCreated { get; init; }

    /// <summary>
    /// Further top-level members (name to raw JSON), on every chunk after <c>model</c> and on the completion after
    /// <c>usage</c>, where OpenAI writes <c>service_tier</c> and <c>system_fingerprint</c>.
    /// </summary>
    public IReadOnlyDictionary<string, string>? Members { get; init; }

    /// <summary>Reports no usage, streamed or not, as some servers do.</summary>
    public bool OmitUsage { get; init; }

    /// <summary>The usage object to report (raw JSON) instead of the one made from the tokens sent.</summary>
    public string? Usage { get; init; }

    /// <summary>Sends a chunk with <c>choices: []</c> and no usage before the first token, as some servers do.</summary>
    public bool EmptyChoicesChunkFirst { get; init; }

    /// <summary>Lines written verbatim after the given number of tokens (e.g. a malformed chunk or an error event).</summary>
    public (int AfterTokens, string Raw)? Inject { get; init; }

    /// <summary>Aborts the connection after this many tokens, without finishing the response.</summary>
    public int? DropAfterTokens { get; init; }

    /// <summary>What a drop after the last token (and <see cref="Inject"/>) waits for first.</summary>
    public Task? DropWhen { get; init; }

    public bool SendDone { get; init; } = true;

    /// <summary>The <c>[DONE]</c> line as sent, when <see cref="SendDone"/> (some servers pad it).</summary>
    public string DoneLine { get; init; } = "data: [DONE]\n\n";

    /// <summary>
    /// A reasoning model's thinking, streamed before the tokens, one part per <c>Delay</c>, in a delta member named
    /// <c>Field</c> (<c>reasoning_content</c>, DeepSeek's; <c>reasoning</c>, Ollama's).
    /// </summary>
    public (IReadOnlyList<string> Parts, TimeSpan Delay, string Field)? Thinking { get; init; }

    /// <summary>Resets the connection before sending any response headers.</summary>
    public bool ResetBeforeHeaders { get; init; }

    /// <summary>Waits this long before sending the response headers.</summary>
    public TimeSpan HeadersDelay { get; init; }

    /// <summary>After this many tokens (0: right after the headers), goes silent for the given time.</summary>
    public (int AfterTokens, TimeSpan For)? Stall { get; init; }

    /// <summary>
    /// After the chunk with the finish reason: goes silent for <c>Wait</c>, then resets the connection (<c>Drop</c>)
    /// or sends the usage and <c>[DONE]</c> as usual.
    /// </summary>
    public (TimeSpan Wait, bool Drop)? AfterFinish { get; init; }
}
