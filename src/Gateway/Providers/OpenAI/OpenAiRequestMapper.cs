using Gateway.Providers.Tools;
using Microsoft.Extensions.AI;
using OpenAI.Chat;
using SdkChatMessage = OpenAI.Chat.ChatMessage;

namespace Gateway.Providers.OpenAI;

/// <summary>Turns the abstraction's messages and options into the OpenAI SDK's.</summary>
internal static class OpenAiRequestMapper
{
    public static List<SdkChatMessage> ToSdkMessages(IEnumerable<Microsoft.Extensions.AI.ChatMessage> messages)
    {
        var result = new List<SdkChatMessage>();
        foreach (var message in messages)
        {
            var (text, name) = (message.Text, message.AuthorName);
            SdkChatMessage mapped = message.Role.Value switch
            {
                "system" => new SystemChatMessage(text) { ParticipantName = name },
                "developer" => new DeveloperChatMessage(text) { ParticipantName = name },
                "assistant" when RawToolCall.AnyIn(message.Contents) => AssistantCalling(message),
                "assistant" => new AssistantChatMessage(text) { ParticipantName = name },
                "tool" when ToolResults.CallId(message) is { } callId => NamedIfSo(new ToolChatMessage(callId, text), name),
                _ when ImagePart.AnyIn(message.Contents) => ShowingImages(message),
                _ => new UserChatMessage(text) { ParticipantName = name },
            };
            result.Add(message.Role == Microsoft.Extensions.AI.ChatRole.Assistant ? WithReasoningAndRefusal(mapped, message) : mapped);
        }

        return result;
    }

    private static AssistantChatMessage AssistantCalling(Microsoft.Extensions.AI.ChatMessage message)
    {
        var calls = new List<ChatToolCall>();
        foreach (var content in message.Contents)
        {
            if (content is RawToolCall call)
            {
                calls.Add(ChatToolCall.CreateFunctionToolCall(call.CallId, call.Name, BinaryData.FromString(call.Arguments ?? "")));
            }
        }

        var mapped = new AssistantChatMessage(calls) { ParticipantName = message.AuthorName };
        if (message.Text is { Length: > 0 } text)
        {
            mapped.Content.Add(ChatMessageContentPart.CreateTextPart(text));
        }

        return mapped;
    }

    // The SDK's JSON patch adds what its message models have no member for, as the streamed body writes it (StreamingChatRequest).
#pragma warning disable SCME0001
    private static ToolChatMessage NamedIfSo(ToolChatMessage message, string? name)
    {
        if (name is not null)
        {
            message.Patch.Set("$.name"u8, name);
        }

        return message;
    }

    /// <summary>
    /// A user message with images, its parts as the streamed body writes them (<see cref="ImagePart.WriteContent"/>):
    /// the SDK's image part holds a link as a <see cref="Uri"/>, which cannot hold a long data URL, and would write a
    /// data URL again from its decoded bytes.
    /// </summary>
    private static UserChatMessage ShowingImages(Microsoft.Extensions.AI.ChatMessage message)
    {
        var mapped = new UserChatMessage(message.Text) { ParticipantName = message.AuthorName };
        mapped.Patch.Set("$.content"u8, ImagePart.ContentJson(message.Contents));
        return mapped;
    }

    /// <summary>An assistant turn's thinking and refusal, which the SDK's message model has no member for.</summary>
    private static SdkChatMessage WithReasoningAndRefusal(SdkChatMessage mapped, Microsoft.Extensions.AI.ChatMessage message)
    {
        if (UpdateContents.Reasoning(message.Contents) is { Length: > 0 } reasoning)
        {
            mapped.Patch.Set("$.reasoning_content"u8, reasoning);
        }

        if (RefusalContent.Of(message.Contents) is { Length: > 0 } refusal)
        {
            mapped.Patch.Set("$.refusal"u8, refusal);
        }

        return mapped;
    }
#pragma warning restore SCME0001

    /// <param name="options">The abstraction's options.</param>
    /// <param name="capAsMaxTokens">Whether the completion's cap goes in <c>max_tokens</c> (<see cref="ProviderOptions.MaxTokensField"/>).</param>
    public static ChatCompletionOptions ToSdkOptions(ChatOptions? options, bool capAsMaxTokens)
    {
        var sdk = new ChatCompletionOptions();
        if (options is null)
        {
            return sdk;
        }

        sdk.Temperature = options.Temperature;
        sdk.TopP = options.TopP;
        if (capAsMaxTokens && options.MaxOutputTokens is { } maxTokens)
        {
            // The SDK writes only the newer name; its JSON patch adds the older one instead.
#pragma warning disable SCME0001
            sdk.Patch.Set("$.max_tokens"u8, maxTokens);
#pragma warning restore SCME0001
        }
        else
        {
            sdk.MaxOutputTokenCount = options.MaxOutputTokens;
        }

        sdk.Seed = options.Seed;
        if (options.StopSequences is { Count: > 0 } stops)
        {
            foreach (var stop in stops)
            {
                sdk.StopSequences.Add(stop);
            }
        }

        if (ChatOptionKeys.EndUser(options) is { } endUser)
        {
            sdk.EndUserId = endUser;
        }

        AddTools(sdk, options);
#pragma warning disable SCME0001 // the SDK's JSON patch: the caller's own JSON, where its models would retype it
        foreach (var (name, value) in ChatOptionKeys.PassedOnOf(options))
        {
            sdk.Patch.Set(System.Text.Encoding.UTF8.GetBytes("$." + name), BinaryData.FromString(value.GetRawText()));
        }
#pragma warning restore SCME0001
        return sdk;
    }

    private static void AddTools(ChatCompletionOptions sdk, ChatOptions options)
    {
        foreach (var tool in options.Tools ?? [])
        {
            if (tool is FunctionTool function)
            {
                sdk.Tools.Add(ChatTool.CreateFunctionTool(
                    function.Name,
                    function.HasDescription ? function.Description : null,
                    function.Parameters is { } parameters ? BinaryData.FromString(parameters.GetRawText()) : null,
                    function.Strict));
            }
        }

        sdk.ToolChoice = options.ToolMode switch
        {
            null => null,
            NoneChatToolMode => ChatToolChoice.CreateNoneChoice(),
            RequiredChatToolMode { RequiredFunctionName: { } name } => ChatToolChoice.CreateFunctionChoice(name),
            RequiredChatToolMode => ChatToolChoice.CreateRequiredChoice(),
            _ => ChatToolChoice.CreateAutoChoice(),
        };
        sdk.AllowParallelToolCalls = options.AllowMultipleToolCalls;
    }
}
