using Microsoft.Extensions.AI;
using OpenAI.Chat;
using MeaiFinishReason = Microsoft.Extensions.AI.ChatFinishReason;
using SdkFinishReason = OpenAI.Chat.ChatFinishReason;

namespace Gateway.Providers.OpenAI;

/// <summary>Turns the OpenAI SDK's updates and completions into the abstraction's.</summary>
internal static class OpenAiResponseMapper
{
    public static ChatResponseUpdate ToUpdate(StreamingChatCompletionUpdate update)
    {
        var result = new ChatResponseUpdate
        {
            ResponseId = update.CompletionId,
            ModelId = update.Model,
            CreatedAt = update.CreatedAt == default ? null : update.CreatedAt,
            Role = update.Role is { } role ? ToRole(role) : null,
            FinishReason = update.FinishReason is { } finish ? ToFinishReason(finish) : null,
        };

        var contents = new List<AIContent>(1);
        foreach (var part in update.ContentUpdate)
        {
            if (part.Kind == ChatMessageContentPartKind.Text && !string.IsNullOrEmpty(part.Text))
            {
                contents.Add(new TextContent(part.Text));
            }
        }

        if (update.Usage is { } usage)
        {
            contents.Add(new UsageContent(ToUsage(usage)));
        }

        result.Contents = contents;
        return result;
    }

    public static ChatResponse ToResponse(ChatCompletion completion)
    {
        var text = string.Concat(completion.Content
            .Where(part => part.Kind == ChatMessageContentPartKind.Text)
            .Select(part => part.Text));
        return new ChatResponse(new Microsoft.Extensions.AI.ChatMessage(ChatRole.Assistant, text))
        {
            ResponseId = completion.Id,
            ModelId = completion.Model,
            CreatedAt = completion.CreatedAt == default ? null : completion.CreatedAt,
            FinishReason = ToFinishReason(completion.FinishReason),
            Usage = completion.Usage is { } usage ? ToUsage(usage) : null,
        };
    }

    public static MeaiFinishReason ToFinishReason(SdkFinishReason reason) => reason switch
    {
        SdkFinishReason.Length => MeaiFinishReason.Length,
        SdkFinishReason.ContentFilter => MeaiFinishReason.ContentFilter,
        SdkFinishReason.ToolCalls or SdkFinishReason.FunctionCall => MeaiFinishReason.ToolCalls,
        _ => MeaiFinishReason.Stop,
    };

    private static ChatRole ToRole(ChatMessageRole role) => role switch
    {
        ChatMessageRole.System => ChatRole.System,
        ChatMessageRole.User => ChatRole.User,
        ChatMessageRole.Tool => ChatRole.Tool,
        _ => ChatRole.Assistant,
    };

    private static UsageDetails ToUsage(ChatTokenUsage usage) => new()
    {
        InputTokenCount = usage.InputTokenCount,
        OutputTokenCount = usage.OutputTokenCount,
        TotalTokenCount = usage.TotalTokenCount,
    };
}
