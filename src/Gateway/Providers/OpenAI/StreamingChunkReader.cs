using System.Text.Json;
using Gateway.Providers.Tools;
using Microsoft.Extensions.AI;

namespace Gateway.Providers.OpenAI;

/// <summary>
/// Turns one <c>chat.completion.chunk</c> payload into a <see cref="ChatResponseUpdate"/> with a
/// <see cref="Utf8JsonReader"/>, mapping what the SDK's streaming update would have carried but without the SDK's
/// per-chunk document, model objects and copies. Only the first choice's content is read, as the SDK's update
/// exposes only that one. It is also where a stream's upstream oddities are caught, in the same single pass over
/// each payload: finish reasons outside OpenAI's set are mapped (<see cref="FinishReasons"/>), and an error reported
/// inside the 200 (a top-level <c>error</c> member, <c>finish_reason: "error"</c>, or a flat
/// <c>{"object":"error","message":…}</c>) throws <see cref="UpstreamException"/>. A payload that is not a well-formed chunk throws <see cref="JsonException"/>,
/// reported like the SDK's own parse failures. One instance per stream: the id and model strings, the same on
/// every chunk, are kept and reused instead of allocated per token, and so is what it says of how it served the answer
/// (<see cref="ServedBy"/>).
/// </summary>
internal sealed class StreamingChunkReader
{
    private string? _id;
    private string? _model;
    private ServedBy? _servedBy;
    private readonly SplitSurrogates _content = new();
    private readonly SplitSurrogates _reasoning = new();
    private readonly SplitSurrogates _refusal = new();
    private ToolCallPieces? _toolCalls; // made at a stream's first tool call: most streams have none

    /// <summary>
    /// Whether any chunk so far carried a finish reason: a stream that ends with neither that nor <c>[DONE]</c> was
    /// cut off, and saying so beats a silent truncation.
    /// </summary>
    public bool SawFinishReason { get; private set; }

    /// <summary>Whether a chunk said <c>finish_reason: ""</c>, which is no reason until the stream ends.</summary>
    private bool _sawEmptyFinishReason;

    /// <summary>
    /// At <c>[DONE]</c>: the update that ends a stream whose chunks only ever said <c>finish_reason: ""</c> (a server's
    /// null), as stopped, with whatever was held back for a character's second half; null when a chunk gave a reason,
    /// or none said anything (such a stream was cut off).
    /// </summary>
    public ChatResponseUpdate? FinishAtDone()
    {
        if (SawFinishReason || !_sawEmptyFinishReason)
        {
            return null;
        }

        SawFinishReason = true;
        var update = new ChatResponseUpdate { Contents = new List<AIContent>(1), ResponseId = _id, FinishReason = ChatFinishReason.Stop, RawRepresentation = _servedBy };
        FlushHeldHalves(update);
        return update;
    }

    /// <summary>
    /// Ends a whole answer read from one document for a streamed request, with what was held back for a character's
    /// second half as U+FFFD; false when the document is no answer. It is one when it said it finished (with a reason,
    /// or with <c>""</c>, which in a whole answer can only be its end) or carries any output; then it is finished,
    /// whatever its <c>finish_reason</c> says (a stop where it gave none), as a non-streamed answer is read: thrown
    /// away, it would be generated, and paid for, again.
    /// </summary>
    public bool TryFinishWhole(ChatResponseUpdate whole)
    {
        FlushHeldHalves(whole);
        if (!(SawFinishReason || _sawEmptyFinishReason || whole.Contents.Any(c => c is TextContent or TextReasoningContent or RawToolCall or RefusalContent)))
        {
            return false;
        }

        whole.FinishReason ??= ChatFinishReason.Stop;
        SawFinishReason = true;
        return true;
    }

    /// <summary>The update for a <c>data:</c> payload, or null for <c>[DONE]</c>.</summary>
    public ChatResponseUpdate? Parse(string eventType, ReadOnlySpan<byte> data)
    {
        // Some servers pad it ("[DONE] "): the SDKs only look at how the line starts.
        if (data.Trim(" \t"u8).SequenceEqual("[DONE]"u8))
        {
            return null;
        }

        if (eventType == "error")
        {
            throw ReportedErrors.InErrorEvent(data);
        }

        var reader = new Utf8JsonReader(data);
        Expect(ref reader, JsonTokenType.StartObject);
        var update = new ChatResponseUpdate { Contents = new List<AIContent>(1) };
        var finishedWithError = false;
        var isErrorObject = false;
        string? message = null;
        string? serviceTier = null, systemFingerprint = null;
        while (NextProperty(ref reader))
        {
            if (reader.ValueTextEquals("id"u8))
            {
                reader.Read();
                update.ResponseId = _id = ReusedString(ref reader, _id);
            }
            else if (reader.ValueTextEquals("model"u8))
            {
                reader.Read();
                update.ModelId = _model = ReusedString(ref reader, _model);
            }
            else if (reader.ValueTextEquals("service_tier"u8))
            {
                reader.Read();
                serviceTier = ReusedText(ref reader, _servedBy?.ServiceTier);
            }
            else if (reader.ValueTextEquals("system_fingerprint"u8))
            {
                reader.Read();
                systemFingerprint = ReusedText(ref reader, _servedBy?.SystemFingerprint);
            }
            else if (reader.ValueTextEquals("created"u8))
            {
                reader.Read();
                // A time out of range (milliseconds, say) is no time: the gateway writes its own, and it must not fail the answer.
                if (reader.TokenType != JsonTokenType.Null && WholeNumber(ref reader) is var seconds and not 0 && WholeNumbers.IsUnixSeconds(seconds))
                {
                    update.CreatedAt = DateTimeOffset.FromUnixTimeSeconds(seconds);
                }
            }
            else if (reader.ValueTextEquals("choices"u8))
            {
                reader.Read();
                finishedWithError = ReadChoices(ref reader, update);
            }
            else if (reader.ValueTextEquals("error"u8))
            {
                reader.Read();
                ThrowIfError(ref reader);
            }
            else if (reader.ValueTextEquals("object"u8))
            {
                reader.Read();
                isErrorObject = reader.TokenType == JsonTokenType.String && reader.ValueTextEquals("error"u8);
                reader.Skip();
            }
            else if (reader.ValueTextEquals("message"u8))
            {
                reader.Read();
                message = reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
                reader.Skip();
            }
            else if (reader.ValueTextEquals("usage"u8))
            {
                reader.Read();
                if (reader.TokenType != JsonTokenType.Null && UsageCounts.Reported(ReadUsage(ref reader)) is { } usage)
                {
                    update.Contents.Add(new UsageContent(usage));
                }
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }

        // One chunk is one JSON value: what follows it (a second data: line's object, joined to the first by the event
        // parser, or garbage) was read past and lost without a word. The SDKs refuse such an event; so does this: the
        // reader throws on anything but white space after the value.
        reader.Read();

        // Older vLLM, TensorRT-LLM and FastChat report a failure mid-stream (out of memory, say) as a flat error object.
        if (isErrorObject)
        {
            throw ReportedErrors.Flat(message);
        }

        // Only now: an error member anywhere in the chunk names the failure better than the finish reason does.
        if (finishedWithError)
        {
            throw FinishReasons.ErrorFinish();
        }

        if (update.FinishReason is not null)
        {
            FlushHeldHalves(update);
        }

        update.RawRepresentation = ServedSoFar(serviceTier, systemFingerprint);
        return update;
    }

    /// <summary>
    /// What the stream has said so far of how it is served, with this chunk's values: a member a chunk leaves out (or
    /// sends as null) keeps what an earlier chunk said. A new instance only when a value changed.
    /// </summary>
    private ServedBy? ServedSoFar(string? serviceTier, string? systemFingerprint)
    {
        serviceTier ??= _servedBy?.ServiceTier;
        systemFingerprint ??= _servedBy?.SystemFingerprint;
        if (!ReferenceEquals(serviceTier, _servedBy?.ServiceTier) || !ReferenceEquals(systemFingerprint, _servedBy?.SystemFingerprint))
        {
            _servedBy = ServedBy.From(serviceTier, systemFingerprint);
        }

        return _servedBy;
    }

    /// <summary>
    /// Appends <paramref name="held"/> to the first content of its kind, where the update's text of that kind is read
    /// (a second one would never be), or adds it as one.
    /// </summary>
    private static void AppendToFirst<T>(IList<AIContent> contents, string held, Func<T, string> textOf, Func<string, T> make)
        where T : AIContent
    {
        for (var i = 0; i < contents.Count; i++)
        {
            if (contents[i] is T own)
            {
                contents[i] = make(textOf(own) + held);
                return;
            }
        }

        contents.Add(make(held));
    }

    /// <summary>A character's first half held for a second that never came is U+FFFD in the last text, not dropped.</summary>
    private void FlushHeldHalves(ChatResponseUpdate update)
    {
        // After the update's own text: what is held is always the end of the text read last, this update's if it had any.
        if (_content.Flush() is { } content)
        {
            update.Contents.Add(new TextContent(content));
        }

        // Reasoning and a refusal are read as the first content of their kind: the held half joins the update's own.
        if (_reasoning.Flush() is { } reasoning)
        {
            AppendToFirst(update.Contents, reasoning, static (TextReasoningContent own) => own.Text, static text => new TextReasoningContent(text));
        }

        if (_refusal.Flush() is { } refusal)
        {
            AppendToFirst(update.Contents, refusal, static (RefusalContent own) => own.Text, static text => new RefusalContent(text));
        }

        foreach (var held in _toolCalls?.Flush() ?? [])
        {
            update.Contents.Add(held);
        }
    }

    /// <summary>Reads the choices into <paramref name="update"/>; true when any of them finished with <c>"error"</c>.</summary>
    private bool ReadChoices(ref Utf8JsonReader reader, ChatResponseUpdate update)
    {
        if (reader.TokenType == JsonTokenType.Null)
        {
            return false;
        }

        Expect(ref reader, JsonTokenType.StartArray, read: false);
        var first = true;
        var finishedWithError = false;
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            // Later choices are read for their finish reason only: an "error" there fails the stream all the same.
            if (first || reader.TokenType == JsonTokenType.StartObject)
            {
                finishedWithError |= ReadChoice(ref reader, first ? update : null);
            }
            else
            {
                reader.Skip();
            }

            first = false;
        }

        return finishedWithError;
    }

    /// <summary>Reads one choice (its delta only into a non-null <paramref name="update"/>); true when it finished with <c>"error"</c>.</summary>
    private bool ReadChoice(ref Utf8JsonReader reader, ChatResponseUpdate? update)
    {
        var finishedWithError = false;
        Expect(ref reader, JsonTokenType.StartObject, read: false);
        while (NextProperty(ref reader))
        {
            // A whole completion's "message", from a server that answered a streamed request unstreamed (UnstreamedAnswer).
            if (update is not null && (reader.ValueTextEquals("delta"u8) || reader.ValueTextEquals("message"u8)))
            {
                reader.Read();
                ReadDelta(ref reader, update);
            }
            else if (reader.ValueTextEquals("finish_reason"u8))
            {
                reader.Read();
                // "" is no reason yet: Ollama and SGLang send it on every chunk where OpenAI sends null. Read as a stop,
                // it made a stream cut mid-answer pass for a whole one. A stream that says nothing else ends at [DONE]
                // as stopped (FinishAtDone).
                if (reader.TokenType == JsonTokenType.String && reader.ValueSpan.IsEmpty)
                {
                    _sawEmptyFinishReason = true;
                }
                else if (reader.TokenType == JsonTokenType.String)
                {
                    SawFinishReason = true;
                    var value = reader.ValueIsEscaped ? System.Text.Encoding.UTF8.GetBytes(reader.GetString()!) : reader.ValueSpan;
                    if (FinishReasons.IsError(value))
                    {
                        finishedWithError = true;
                    }
                    else
                    {
                        update?.FinishReason = FinishReasons.Map(value);
                    }
                }
                else if (reader.TokenType != JsonTokenType.Null)
                {
                    throw new JsonException($"A finish_reason must be a string or null, found {reader.TokenType}.");
                }
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }

        return finishedWithError;
    }

    private void ReadDelta(ref Utf8JsonReader reader, ChatResponseUpdate update)
    {
        if (reader.TokenType == JsonTokenType.Null)
        {
            return;
        }

        Expect(ref reader, JsonTokenType.StartObject, read: false);
        var readReasoning = false;
        while (NextProperty(ref reader))
        {
            if (reader.ValueTextEquals("content"u8))
            {
                reader.Read();
                if (reader.TokenType == JsonTokenType.StartArray)
                {
                    ReadParts(ref reader, update);
                }
                else if (reader.TokenType != JsonTokenType.Null && _content.Read(ref reader) is { Length: > 0 } text)
                {
                    update.Contents.Insert(0, new TextContent(text));
                }
            }
            else if (reader.ValueTextEquals("reasoning_content"u8) || reader.ValueTextEquals("reasoning"u8))
            {
                // A reasoning model's thinking (DeepSeek's, vLLM's and SGLang's name; Ollama's, OpenRouter's and
                // Groq's): it comes before the answer, for as long as the model thinks, and is the stream's progress.
                // vLLM 0.11 to 0.15 copies it into the other name on every delta: read twice, it went through the held half
                // of a character twice, and the thinking passed on held a U+FFFD where a character had been cut in two.
                reader.Read();
                if (reader.TokenType != JsonTokenType.String || readReasoning)
                {
                    reader.Skip(); // null, a shape that is not text, or the thinking already read under its other name
                }
                else
                {
                    readReasoning = !reader.ValueSpan.IsEmpty;
                    if (_reasoning.Read(ref reader) is { Length: > 0 } reasoning)
                    {
                        update.Contents.Add(new TextReasoningContent(reasoning));
                    }
                }
            }
            else if (reader.ValueTextEquals("role"u8))
            {
                reader.Read();
                if (reader.TokenType != JsonTokenType.Null)
                {
                    update.Role = ToRole(ref reader);
                }
            }
            else if (reader.ValueTextEquals("tool_calls"u8))
            {
                reader.Read();
                ReadToolCalls(ref reader, update);
            }
            else if (reader.ValueTextEquals("refusal"u8))
            {
                reader.Read();
                if (reader.TokenType != JsonTokenType.String)
                {
                    reader.Skip(); // null, on every chunk of an answer that is not a refusal
                }
                else if (_refusal.Read(ref reader) is { Length: > 0 } refusal)
                {
                    update.Contents.Add(new RefusalContent(refusal));
                }
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }
    }

    /// <summary>
    /// Content written as a list of parts (<see cref="ContentParts"/>, Magistral's): its text is the update's text and
    /// its thinking parts are thinking, through the same readers as a string's and <c>reasoning_content</c>.
    /// </summary>
    private void ReadParts(ref Utf8JsonReader reader, ChatResponseUpdate update)
    {
        var (text, thinking) = ContentParts.Read(ref reader, _content, _reasoning);
        if (text is { Length: > 0 })
        {
            update.Contents.Insert(0, new TextContent(text));
        }

        if (thinking is { Length: > 0 })
        {
            update.Contents.Add(new TextReasoningContent(thinking));
        }
    }

    /// <summary>Pieces of the model's calls to the caller's functions, passed on as they come (<see cref="ToolCallPieces"/>).</summary>
    private void ReadToolCalls(ref Utf8JsonReader reader, ChatResponseUpdate update)
    {
        if (reader.TokenType == JsonTokenType.Null)
        {
            return;
        }

        Expect(ref reader, JsonTokenType.StartArray, read: false);
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            Expect(ref reader, JsonTokenType.StartObject, read: false);
            int? index = null;
            string? id = null, name = null, argumentsText = null;
            byte[]? arguments = null;
            while (NextProperty(ref reader))
            {
                if (reader.ValueTextEquals("index"u8))
                {
                    reader.Read();
                    index = reader.TokenType == JsonTokenType.Null ? null : (int)WholeNumber(ref reader);
                }
                else if (reader.ValueTextEquals("id"u8))
                {
                    reader.Read();
                    id = reader.TokenType == JsonTokenType.Null ? null : reader.GetString();
                }
                else if (reader.ValueTextEquals("function"u8))
                {
                    reader.Read();
                    (name, arguments, argumentsText) = ReadFunction(ref reader);
                }
                else
                {
                    reader.Read();
                    reader.Skip();
                }
            }

            update.Contents.Add((_toolCalls ??= new()).Next(index, id, name, arguments, argumentsText));
        }
    }

    /// <summary>A piece's function: its name, and its arguments as the string token's bytes, or as an object's text.</summary>
    private static (string? Name, byte[]? Arguments, string? ArgumentsText) ReadFunction(ref Utf8JsonReader reader)
    {
        if (reader.TokenType == JsonTokenType.Null)
        {
            return (null, null, null);
        }

        Expect(ref reader, JsonTokenType.StartObject, read: false);
        string? name = null, argumentsText = null;
        byte[]? arguments = null;
        while (NextProperty(ref reader))
        {
            if (reader.ValueTextEquals("name"u8))
            {
                reader.Read();
                name = reader.TokenType == JsonTokenType.Null ? null : reader.GetString();
            }
            else if (reader.ValueTextEquals("arguments"u8))
            {
                reader.Read();
                switch (reader.TokenType)
                {
                    case JsonTokenType.Null:
                        break;
                    case JsonTokenType.String:
                        // Read once the piece's call is known: a character cut in two is joined within its own call.
                        arguments = reader.ValueSpan.ToArray();
                        break;
                    default:
                        // Some servers (older Ollama) write the arguments as the object itself: its text is what OpenAI sends.
                        argumentsText = JsonElement.ParseValue(ref reader).GetRawText();
                        break;
                }
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }

        return (name, arguments, argumentsText);
    }

    private static UsageDetails ReadUsage(ref Utf8JsonReader reader)
    {
        Expect(ref reader, JsonTokenType.StartObject, read: false);
        var usage = new UsageDetails();
        while (NextProperty(ref reader))
        {
            if (reader.ValueTextEquals("prompt_tokens"u8))
            {
                usage.InputTokenCount = ReadCount(ref reader);
            }
            else if (reader.ValueTextEquals("completion_tokens"u8))
            {
                usage.OutputTokenCount = ReadCount(ref reader);
            }
            else if (reader.ValueTextEquals("total_tokens"u8))
            {
                usage.TotalTokenCount = ReadCount(ref reader);
            }
            else if (reader.ValueTextEquals("prompt_tokens_details"u8))
            {
                usage.CachedInputTokenCount = ReadDetail(ref reader, "cached_tokens"u8);
            }
            else if (reader.ValueTextEquals("completion_tokens_details"u8))
            {
                usage.ReasoningTokenCount = ReadDetail(ref reader, "reasoning_tokens"u8);
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }

        return usage;
    }

    /// <summary>One count of a usage's details object (<c>{"cached_tokens": 900, ...}</c>); null when there is no such object.</summary>
    private static long? ReadDetail(ref Utf8JsonReader reader, ReadOnlySpan<byte> name)
    {
        reader.Read();
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            reader.Skip();
            return null;
        }

        long? count = null;
        while (NextProperty(ref reader))
        {
            if (reader.ValueTextEquals(name))
            {
                count = ReadCount(ref reader);
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }

        // A details object without the count (or with null) is a count of 0, as the SDK reads a non-streamed answer's:
        // the same upstream's streamed and unstreamed usage must not differ in shape.
        return count ?? 0;
    }

    /// <summary>A token count; null (some servers send it for a count they do not keep) is no count.</summary>
    private static long? ReadCount(ref Utf8JsonReader reader)
    {
        reader.Read();
        return reader.TokenType == JsonTokenType.Null ? null : WholeNumber(ref reader);
    }

    /// <summary>
    /// A count or a timestamp. Some servers write them as <c>7.0</c>, or a time with its fraction of a second: the
    /// whole part, rather than failing a good answer for the way a number was written.
    /// </summary>
    private static long WholeNumber(ref Utf8JsonReader reader) =>
        reader.TryGetInt64(out var whole) ? whole : (long)Math.Truncate(reader.GetDouble());

    /// <summary>Throws the failure an <c>error</c> member reports; null means none.</summary>
    private static void ThrowIfError(ref Utf8JsonReader reader)
    {
        using var error = JsonDocument.ParseValue(ref reader);
        if (ReportedErrors.FromMember(error.RootElement) is { } failure)
        {
            throw failure;
        }
    }

    private static ChatRole ToRole(ref Utf8JsonReader reader) =>
        reader.ValueTextEquals("system"u8) ? ChatRole.System
        : reader.ValueTextEquals("user"u8) ? ChatRole.User
        : reader.ValueTextEquals("tool"u8) ? ChatRole.Tool
        : ChatRole.Assistant;

    private static string? ReusedString(ref Utf8JsonReader reader, string? previous) =>
        reader.TokenType == JsonTokenType.Null ? null
        : previous is not null && reader.ValueTextEquals(previous) ? previous
        : reader.GetString();

    /// <summary>As <see cref="ReusedString"/>, for a member that is only worth passing on as text: any other value is none.</summary>
    private static string? ReusedText(ref Utf8JsonReader reader, string? previous)
    {
        if (reader.TokenType == JsonTokenType.String)
        {
            return ReusedString(ref reader, previous);
        }

        reader.Skip();
        return null;
    }

    /// <summary>Moves to the next property name of the current object; false at its end.</summary>
    private static bool NextProperty(ref Utf8JsonReader reader)
    {
        reader.Read();
        return reader.TokenType == JsonTokenType.PropertyName;
    }

    private static void Expect(ref Utf8JsonReader reader, JsonTokenType type, bool read = true)
    {
        if ((read && !reader.Read()) || reader.TokenType != type)
        {
            throw new JsonException($"Expected {type} in a chat.completion.chunk, found {reader.TokenType}.");
        }
    }
}
