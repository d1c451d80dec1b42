using System.Text.Json;
using Gateway.Providers.Tools;

namespace Gateway.Providers.OpenAI;

/// <summary>
/// Puts a stream's tool call pieces into the shape OpenAI sends and the SDKs assemble, whatever the server sent:
/// <list type="bullet">
/// <item>each piece numbered: a server that sends calls without an <c>index</c> (each whole, in a chunk of its own) has
/// them counted as the stream goes, where numbering each chunk's from 0 merged them into one call;</item>
/// <item>a call's id and function named once, on its first piece: some servers repeat them on every piece, and the
/// Python SDK joins what it is sent again ("c1c1", "get_weatherget_weather"); others write them as <c>""</c> there, which
/// is no name;</item>
/// <item>an id made up for a call that came without one: the SDKs' stream helpers require it, and the caller must send
/// it back with the call's result;</item>
/// <item>a character cut in two between two pieces of a call joined, each call's apart from the others'.</item>
/// </list>
/// One instance per stream.
/// </summary>
internal sealed class ToolCallPieces
{
    private readonly Dictionary<int, Call> _calls = [];
    private int _last = -1;
    private string? _lastIdSent;

    /// <summary>The piece as it goes on.</summary>
    /// <param name="index">The piece's <c>index</c>, if it had one.</param>
    /// <param name="id">Its <c>id</c>, if it had one.</param>
    /// <param name="name">Its function's <c>name</c>, if it had one.</param>
    /// <param name="arguments">Its arguments: a JSON string token's bytes as sent (escaped, without quotes), or null.</param>
    /// <param name="argumentsText">Arguments sent as an object instead of a string (older Ollama): that object's text.</param>
    public RawToolCall Next(int? index, string? id, string? name, byte[]? arguments, string? argumentsText)
    {
        // DashScope and DeepSeek write "name":"" (and "id":"") on every piece after a call's first: no name, not a new one.
        name = string.IsNullOrEmpty(name) ? null : name;
        var number = index ?? (StartsACall(id, name) ? NextNumber : _last);
        _last = number;
        _lastIdSent = string.IsNullOrEmpty(id) ? _lastIdSent : id;
        if (!_calls.TryGetValue(number, out var call))
        {
            _calls[number] = call = new Call { Name = name };
            return new RawToolCall(number, string.IsNullOrEmpty(id) ? RawToolCall.NewId() : id, name, Text(call, arguments) ?? argumentsText);
        }

        // Named already: a repeat of the id or the name is left out, a name the first piece lacked is not.
        var newName = name is not null && name != call.Name ? name : null;
        call.Name ??= newName;
        return new RawToolCall(number, null, newName, Text(call, arguments) ?? argumentsText);
    }

    /// <summary>At the stream's end: U+FFFD for each call's first half of a character whose second never came.</summary>
    public IEnumerable<RawToolCall> Flush()
    {
        foreach (var (number, call) in _calls)
        {
            if (call.Arguments.Flush() is { } held)
            {
                yield return new RawToolCall(number, null, null, held);
            }
        }
    }

    private int NextNumber => _calls.Count == 0 ? 0 : _calls.Keys.Max() + 1;

    /// <summary>Whether an unnumbered piece starts a call: it names one, and not the one under way.</summary>
    private bool StartsACall(string? id, string? name) =>
        _calls.Count == 0 || (!string.IsNullOrEmpty(id) ? id != _lastIdSent : name is not null);

    private static string? Text(Call call, byte[]? arguments)
    {
        if (arguments is null)
        {
            return null;
        }

        var quoted = new byte[arguments.Length + 2];
        quoted[0] = quoted[^1] = (byte)'"';
        arguments.CopyTo(quoted, 1);
        var reader = new Utf8JsonReader(quoted);
        reader.Read();
        return call.Arguments.Read(ref reader);
    }

    private sealed class Call
    {
        public string? Name { get; set; }

        public SplitSurrogates Arguments { get; } = new();
    }
}
