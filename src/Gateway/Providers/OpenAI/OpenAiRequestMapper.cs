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
                "assistant" => new AssistantChatMessage(text) { ParticipantName = name },
                _ => new UserChatMessage(text) { ParticipantName = name },
            };
            result.Add(mapped);
        }

        return result;
    }

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

        return sdk;
    }
}
