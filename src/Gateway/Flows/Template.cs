using System.Text;
using System.Text.RegularExpressions;

namespace Gateway.Flows;

/// <summary>
/// A text with <c>{{name}}</c> placeholders (spaces inside the braces allowed). A name is a node id or a run
/// variable; anything between double braces that is not a valid name stays as written.
/// </summary>
internal sealed partial class Template
{
    private readonly string _text;
    private readonly MatchCollection _placeholders;

    private Template(string text)
    {
        _text = text;
        _placeholders = Placeholder().Matches(text);
        Names = [.. _placeholders.Select(m => m.Groups["name"].Value).Distinct(StringComparer.Ordinal)];
    }

    /// <summary>The distinct names the template uses, in order of first use.</summary>
    public IReadOnlyList<string> Names { get; }

    public static Template Parse(string text) => new(text);

    /// <summary>Replaces every placeholder by <paramref name="valueOf"/>(name), in one pass: values are never re-read as templates.</summary>
    public string Render(Func<string, string> valueOf)
    {
        if (_placeholders.Count == 0)
        {
            return _text;
        }

        var result = new StringBuilder(_text.Length);
        var position = 0;
        foreach (Match placeholder in _placeholders)
        {
            result.Append(_text, position, placeholder.Index - position);
            result.Append(valueOf(placeholder.Groups["name"].Value));
            position = placeholder.Index + placeholder.Length;
        }

        return result.Append(_text, position, _text.Length - position).ToString();
    }

    /// <summary>How long <see cref="Render"/> would make the text with these values, found without building it.</summary>
    public long RenderedLength(Func<string, string> valueOf)
    {
        long length = _text.Length;
        foreach (Match placeholder in _placeholders)
        {
            length += valueOf(placeholder.Groups["name"].Value).Length - placeholder.Length;
        }

        return length;
    }

    [GeneratedRegex(@"\{\{\s*(?<name>[A-Za-z0-9_-]{1,64})\s*\}\}")]
    private static partial Regex Placeholder();
}
