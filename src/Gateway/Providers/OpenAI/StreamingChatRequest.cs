using System.Buffers;
using System.Net.Http.Headers;
using System.Reflection;
using System.Text.Json;
using Gateway.Providers.Tools;
using Microsoft.Extensions.AI;

namespace Gateway.Providers.OpenAI;

/// <summary>
/// Builds the streamed <c>POST {BaseUrl}/chat/completions</c> the OpenAI SDK would send for the same messages and
/// options (the same body, as <c>OpenAiRequestMapper</c> and the SDK map them, and the same key), written straight
/// into the request with a <see cref="Utf8JsonWriter"/>. The SDK's request pipeline (its options and message models,
/// their serialisation, its policies) was most of what the gateway did between a request arriving and the upstream
/// call leaving.
/// </summary>
internal sealed class StreamingChatRequest
{
    private static readonly MediaTypeWithQualityHeaderValue AcceptJson = new("application/json");
    private static readonly MediaTypeHeaderValue ContentTypeJson = new("application/json");

    /// <summary>
    /// The <c>User-Agent</c> the SDK sends with its own requests (<c>OpenAI/2.15.0 (.NET 10.0.12; Debian GNU/Linux 12
    /// (bookworm))</c>), so that a streamed call names its client as an unstreamed one does: it went with none, which
    /// some firewalls in front of model servers refuse.
    /// </summary>
    private static readonly string SdkUserAgent =
        $"OpenAI/{SdkVersion()} ({System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription}; {System.Runtime.InteropServices.RuntimeInformation.OSDescription})";

    private static string SdkVersion()
    {
        var version = typeof(global::OpenAI.OpenAIClient).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "";
        var build = version.IndexOf('+', StringComparison.Ordinal);
        return build < 0 ? version : version[..build];
    }

    private readonly Uri _endpoint;
    private readonly AuthenticationHeaderValue? _authorization;
    private readonly bool _capAsMaxTokens;

    /// <param name="baseUrl">The provider's API root.</param>
    /// <param name="apiKey">Its key, if it takes one.</param>
    /// <param name="capAsMaxTokens">Whether the completion's cap goes in <c>max_tokens</c> (<see cref="ProviderOptions.MaxTokensField"/>).</param>
    public StreamingChatRequest(string baseUrl, string? apiKey, bool capAsMaxTokens)
    {
        _capAsMaxTokens = capAsMaxTokens;
        var builder = new UriBuilder(baseUrl);
        builder.Path = builder.Path.TrimEnd('/') + "/chat/completions";
        _endpoint = builder.Uri;
        _authorization = string.IsNullOrEmpty(apiKey) ? null : new AuthenticationHeaderValue("Bearer", apiKey);
    }

    public HttpRequestMessage Create(IEnumerable<ChatMessage> messages, ChatOptions options)
    {
        var body = new ArrayBufferWriter<byte>(512);
        using (var writer = new Utf8JsonWriter(body))
        {
            WriteBody(writer, messages, options, _capAsMaxTokens);
        }

        var request = new StreamedCompletionRequest(_endpoint)
        {
            Content = new ReadOnlyMemoryContent(body.WrittenMemory),
        };
        request.Content.Headers.ContentType = ContentTypeJson;
        request.Headers.Accept.Add(AcceptJson);
        request.Headers.Authorization = _authorization;
        request.Headers.TryAddWithoutValidation("User-Agent", SdkUserAgent);
        return request;
    }

    internal static void WriteBody(Utf8JsonWriter writer, IEnumerable<ChatMessage> messages, ChatOptions options, bool capAsMaxTokens)
    {
        writer.WriteStartObject();
        writer.WriteStartArray("messages"u8);
        foreach (var message in messages)
        {
            writer.WriteStartObject();
            writer.WriteString("role"u8, RoleOf(message));
            var calls = RawToolCall.AnyIn(message.Contents);
            var text = message.Text;
            if (ImagePart.AnyIn(message.Contents))
            {
                writer.WritePropertyName("content"u8);
                ImagePart.WriteContent(writer, message.Contents);
            }
            else if (!calls || text.Length > 0)
            {
                writer.WriteString("content"u8, text); // a turn that only called functions has none, as the SDK sends it
            }

            if (message.AuthorName is { } name)
            {
                writer.WriteString("name"u8, name);
            }

            if (calls)
            {
                ToolJson.WriteCalls(writer, message.Contents, indexed: false);
            }

            if (ToolResults.CallId(message) is { } callId)
            {
                writer.WriteString("tool_call_id"u8, callId);
            }

            if (UpdateContents.Reasoning(message.Contents) is { Length: > 0 } reasoning)
            {
                writer.WriteString("reasoning_content"u8, reasoning);
            }

            if (RefusalContent.Of(message.Contents) is { Length: > 0 } refusal)
            {
                writer.WriteString("refusal"u8, refusal);
            }

            writer.WriteEndObject();
        }

        writer.WriteEndArray();
        writer.WriteString("model"u8, options.ModelId);
        if (options.StopSequences is { Count: > 0 } stops)
        {
            writer.WriteStartArray("stop"u8);
            foreach (var stop in stops)
            {
                writer.WriteStringValue(stop);
            }

            writer.WriteEndArray();
        }

        if (options.MaxOutputTokens is { } maxTokens)
        {
            writer.WriteNumber(capAsMaxTokens ? "max_tokens"u8 : "max_completion_tokens"u8, maxTokens);
        }

        if (options.Seed is { } seed)
        {
            writer.WriteNumber("seed"u8, seed);
        }

        if (options.Temperature is { } temperature)
        {
            writer.WriteNumber("temperature"u8, temperature);
        }

        if (options.TopP is { } topP)
        {
            writer.WriteNumber("top_p"u8, topP);
        }

        if (ChatOptionKeys.EndUser(options) is { } endUser)
        {
            writer.WriteString("user"u8, endUser);
        }

        ToolJson.WriteOptions(writer, options);
        foreach (var (name, value) in ChatOptionKeys.PassedOnOf(options))
        {
            writer.WritePropertyName(name);
            writer.WriteRawValue(value.GetRawText(), skipInputValidation: true); // the caller's bytes (PassedOnParameters)
        }

        writer.WriteBoolean("stream"u8, true);
        writer.WriteStartObject("stream_options"u8);
        writer.WriteBoolean("include_usage"u8, true);
        writer.WriteEndObject();
        writer.WriteEndObject();
    }

    // The roles the SDK's messages serialise as; any other role went out as a user message. A tool message is one
    // that answers a call (flows make none).
    private static string RoleOf(ChatMessage message) => message.Role.Value switch
    {
        "system" => "system",
        "developer" => "developer",
        "assistant" => "assistant",
        "tool" when ToolResults.CallId(message) is not null => "tool",
        _ => "user",
    };
}

/// <summary>
/// A streamed completion's request, so that handlers below can tell it from the SDK's non-streamed ones by its type
/// (no per-request options dictionary): its body must flow as it arrives, whatever content type the upstream names.
/// </summary>
internal sealed class StreamedCompletionRequest(Uri endpoint) : HttpRequestMessage(HttpMethod.Post, endpoint);
