using System.Text.Json;
using Microsoft.Extensions.AI;

namespace Gateway.Providers.Tools;

/// <summary>Tools, the tool choice and tool calls in OpenAI's wire format, for requests sent on and chunks sent back.</summary>
internal static class ToolJson
{
    /// <summary><c>tools</c>, <c>tool_choice</c> and <c>parallel_tool_calls</c>, for those of them the options set.</summary>
    public static void WriteOptions(Utf8JsonWriter writer, ChatOptions options)
    {
        if (options.Tools is { Count: > 0 } tools)
        {
            writer.WriteStartArray("tools"u8);
            foreach (var tool in tools)
            {
                if (tool is FunctionTool function)
                {
                    WriteTool(writer, function);
                }
            }

            writer.WriteEndArray();
        }

        if (options.ToolMode is { } mode)
        {
            WriteToolChoice(writer, mode);
        }

        if (options.AllowMultipleToolCalls is { } parallel)
        {
            writer.WriteBoolean("parallel_tool_calls"u8, parallel);
        }
    }

    private static void WriteTool(Utf8JsonWriter writer, FunctionTool function)
    {
        writer.WriteStartObject();
        writer.WriteString("type"u8, "function"u8);
        writer.WriteStartObject("function"u8);
        writer.WriteString("name"u8, function.Name);
        if (function.HasDescription)
        {
            writer.WriteString("description"u8, function.Description);
        }

        if (function.Parameters is { } parameters)
        {
            // The caller's bytes: re-encoding would escape its text, and fail on an escape that is not a whole character.
            writer.WritePropertyName("parameters"u8);
            writer.WriteRawValue(parameters.GetRawText(), skipInputValidation: true);
        }

        if (function.Strict is { } strict)
        {
            writer.WriteBoolean("strict"u8, strict);
        }

        writer.WriteEndObject();
        writer.WriteEndObject();
    }

    private static void WriteToolChoice(Utf8JsonWriter writer, ChatToolMode mode)
    {
        switch (mode)
        {
            case NoneChatToolMode:
                writer.WriteString("tool_choice"u8, "none"u8);
                break;
            case RequiredChatToolMode { RequiredFunctionName: { } name }:
                writer.WriteStartObject("tool_choice"u8);
                writer.WriteString("type"u8, "function"u8);
                writer.WriteStartObject("function"u8);
                writer.WriteString("name"u8, name);
                writer.WriteEndObject();
                writer.WriteEndObject();
                break;
            case RequiredChatToolMode:
                writer.WriteString("tool_choice"u8, "required"u8);
                break;
            default:
                writer.WriteString("tool_choice"u8, "auto"u8);
                break;
        }
    }

    /// <summary>
    /// A <c>tool_calls</c> array of the tool calls among <paramref name="contents"/>: whole calls in a message
    /// (<paramref name="indexed"/> false), or a chunk's pieces of calls, each with its <c>index</c>. A piece carries only
    /// what it was given: the first names the call's id and function, the next ones add to its arguments.
    /// </summary>
    public static void WriteCalls(Utf8JsonWriter writer, IList<AIContent> contents, bool indexed)
    {
        writer.WriteStartArray("tool_calls"u8);
        for (var i = 0; i < contents.Count; i++)
        {
            if (contents[i] is not RawToolCall call)
            {
                continue;
            }

            writer.WriteStartObject();
            if (indexed)
            {
                writer.WriteNumber("index"u8, call.Index);
            }

            if (call.CallId is { } id)
            {
                writer.WriteString("id"u8, id);
                writer.WriteString("type"u8, "function"u8);
            }

            if (call.Name is not null || call.Arguments is not null)
            {
                writer.WriteStartObject("function"u8);
                if (call.Name is { } name)
                {
                    writer.WriteString("name"u8, name);
                }

                if (call.Arguments is { } arguments)
                {
                    writer.WriteString("arguments"u8, arguments);
                }

                writer.WriteEndObject();
            }

            writer.WriteEndObject();
        }

        writer.WriteEndArray();
    }
}
