using Microsoft.Extensions.AI;

namespace Gateway.Providers.OpenAI;

/// <summary>
/// What an OpenAI-compatible server's <c>finish_reason</c> means, for the values OpenAI defines and for those real
/// servers send besides (<c>"eos"</c>, <c>"end_turn"</c>, <c>"max_tokens"</c>, <c>""</c>). One table for the streamed
/// reader and for the rewrite the SDK's non-streamed parser needs.
/// </summary>
internal static class FinishReasons
{
    /// <summary>Maps any value; throws <see cref="UpstreamException"/> for <c>"error"</c>, which is a failure, not a finish.</summary>
    public static ChatFinishReason Map(ReadOnlySpan<byte> value)
    {
        if (IsError(value))
        {
            throw ErrorFinish();
        }

        if (value.SequenceEqual("stop"u8))
        {
            return ChatFinishReason.Stop;
        }

        if (value.SequenceEqual("length"u8)
            // Servers that ran out of budget say so in their own words.
            || value.SequenceEqual("max_tokens"u8) || value.SequenceEqual("max_length"u8) || value.SequenceEqual("model_length"u8))
        {
            return ChatFinishReason.Length;
        }

        if (value.SequenceEqual("content_filter"u8))
        {
            return ChatFinishReason.ContentFilter;
        }

        if (value.SequenceEqual("tool_calls"u8) || value.SequenceEqual("function_call"u8))
        {
            return ChatFinishReason.ToolCalls;
        }

        // Everything else ended the turn normally.
        return ChatFinishReason.Stop;
    }

    /// <summary>
    /// OpenRouter and others end a failed stream with finish_reason <c>"error"</c>; vLLM ends one it aborted (its
    /// engine stopped the request) with <c>"abort"</c>. Mapped to <c>stop</c>, a cut answer passed for a whole one.
    /// </summary>
    public static bool IsError(ReadOnlySpan<byte> value) => value.SequenceEqual("error"u8) || value.SequenceEqual("abort"u8);

    public static UpstreamException ErrorFinish() =>
        new(UpstreamFailure.StreamError, "The upstream ended the stream with a failure as its finish_reason (\"error\" or \"abort\").");

    /// <summary>True for the values the OpenAI SDK's enum knows, which its parser accepts as they are.</summary>
    public static bool IsKnownToTheSdk(ReadOnlySpan<byte> value) =>
        value.SequenceEqual("stop"u8) || value.SequenceEqual("length"u8) || value.SequenceEqual("tool_calls"u8)
        || value.SequenceEqual("content_filter"u8) || value.SequenceEqual("function_call"u8);
}
