using Microsoft.Extensions.AI;

namespace Gateway.Providers.Tools;

/// <summary>
/// A call the model makes to one of the caller's functions, or a piece of one, as OpenAI streams it: the first piece of
/// call <see cref="Index"/> names its <see cref="CallId"/> and function, the next ones carry more of its arguments.
/// The arguments are text, passed on as the model wrote them: a model may write JSON that does not parse, and the
/// caller, not the gateway, decides what to do with it. (The abstraction's <c>FunctionCallContent</c> holds whole calls
/// with parsed arguments, so it could carry neither the pieces nor such text.)
/// </summary>
internal sealed class RawToolCall(int index, string? callId, string? name, string? arguments) : AIContent
{
    /// <summary>Which of the turn's calls this is (or is a piece of), from 0.</summary>
    public int Index => index;

    public string? CallId => callId;

    public string? Name => name;

    /// <summary>The arguments' text, or the next piece of it.</summary>
    public string? Arguments => arguments;

    /// <summary>An id in OpenAI's form, for a call made without one (the caller must send it back with the call's result).</summary>
    public static string NewId() => "call_" + Guid.NewGuid().ToString("N")[..24];

    /// <summary>Whether any of <paramref name="contents"/> is a tool call; indexed, as this runs once per streamed chunk.</summary>
    public static bool AnyIn(IList<AIContent> contents)
    {
        for (var i = 0; i < contents.Count; i++)
        {
            if (contents[i] is RawToolCall)
            {
                return true;
            }
        }

        return false;
    }
}
