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
            var text = message.Text;
            SdkChatMessage mapped = message.Role.Value switch
            {
                "system" => new SystemChatMessage(text),
                "developer" => new DeveloperChatMessage(text),
                "assistant" => new AssistantChatMessage(text),
                _ => new UserChatMessage(text),
            };
            result.Add(mapped);
        }

        return result;
    }

    public static ChatCompletionOptions ToSdkOptions(ChatOptions? options)
    {
        var sdk = new ChatCompletionOptions();
        if (options is null)
        {
            return sdk;
        }

        sdk.Temperature = options.Temperature;
        sdk.TopP = options.TopP;
        sdk.MaxOutputTokenCount = options.MaxOutputTokens;
        sdk.Seed = options.Seed;
        if (options.StopSequences is { Count: > 0 } stops)
        {
            foreach (var stop in stops)
            {
                sdk.StopSequences.Add(stop);
            }
        }

        if (options.AdditionalProperties?.TryGetValue("user", out var user) == true && user is string endUser)
        {
            sdk.EndUserId = endUser;
        }

        return sdk;
    }
}
