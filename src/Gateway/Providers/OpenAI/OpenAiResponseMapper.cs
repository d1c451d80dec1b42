using Gateway.Providers.Tools;
using Microsoft.Extensions.AI;
using OpenAI.Chat;
using MeaiFinishReason = Microsoft.Extensions.AI.ChatFinishReason;
using SdkFinishReason = OpenAI.Chat.ChatFinishReason;

namespace Gateway.Providers.OpenAI;

/// <summary>Turns the OpenAI SDK's completions into the abstraction's (streamed chunks: <see cref="StreamingChunkReader"/>).</summary>
internal static class OpenAiResponseMapper
{
    public static ChatResponse ToResponse(ChatCompletion completion)
    {
        var text = string.Concat(completion.Content
            .Where(part => part.Kind == ChatMessageContentPartKind.Text)
            .Select(part => part.Text));
        var message = new Microsoft.Extensions.AI.ChatMessage(ChatRole.Assistant, text);
        for (var i = 0; i < completion.ToolCalls.Count; i++)
        {
            var call = completion.ToolCalls[i];
            // A call without an id gets one, as a streamed one does (ToolCallPieces): the caller must send it back.
            var id = string.IsNullOrEmpty(call.Id) ? RawToolCall.NewId() : call.Id;
            message.Contents.Add(new RawToolCall(i, id, call.FunctionName, call.FunctionArguments?.ToString() ?? ""));
        }

        if (completion.Refusal is { Length: > 0 } refusal)
        {
            message.Contents.Add(new RefusalContent(refusal));
        }

        return new ChatResponse(message)
        {
            ResponseId = completion.Id,
            ModelId = completion.Model,
            CreatedAt = completion.CreatedAt == default ? null : completion.CreatedAt,
            FinishReason = ToFinishReason(completion.FinishReason),
            Usage = completion.Usage is { } usage ? UsageCounts.Reported(ToUsage(usage)) : null,
            RawRepresentation = ServedBy.From(ServiceTier(completion), completion.SystemFingerprint),
        };
    }

    // The SDK marks the tier's API experimental (OPENAI001); only its text is read, whatever the value.
#pragma warning disable OPENAI001
    private static string? ServiceTier(ChatCompletion completion) => completion.ServiceTier?.ToString();
#pragma warning restore OPENAI001

    public static MeaiFinishReason ToFinishReason(SdkFinishReason reason) => reason switch
    {
        SdkFinishReason.Length => MeaiFinishReason.Length,
        SdkFinishReason.ContentFilter => MeaiFinishReason.ContentFilter,
        SdkFinishReason.ToolCalls or SdkFinishReason.FunctionCall => MeaiFinishReason.ToolCalls,
        _ => MeaiFinishReason.Stop,
    };

    private static UsageDetails ToUsage(ChatTokenUsage usage) => new()
    {
        InputTokenCount = usage.InputTokenCount,
        OutputTokenCount = usage.OutputTokenCount,
        TotalTokenCount = usage.TotalTokenCount,
        CachedInputTokenCount = usage.InputTokenDetails?.CachedTokenCount,
        ReasoningTokenCount = usage.OutputTokenDetails?.ReasoningTokenCount,
    };
}
