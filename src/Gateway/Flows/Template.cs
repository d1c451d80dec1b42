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

    /// <summary>
    /// Replaces every placeholder by <paramref name="valueOf"/>(name), in one pass: values are never re-read as
    /// templates. Returns null, having built no more than that, when the text would be longer than
    /// <paramref name="maxLength"/> characters.
    /// </summary>
    public string? Render(Func<string, string> valueOf, int maxLength = int.MaxValue)
    {
        if (_placeholders.Count == 0)
        {
            return _text.Length <= maxLength ? _text : null;
        }

        var result = new StringBuilder(Math.Min(_text.Length, maxLength));
        var position = 0;
        foreach (Match placeholder in _placeholders)
        {
            var value = valueOf(placeholder.Groups["name"].Value);
            if ((long)result.Length + (placeholder.Index - position) + value.Length > maxLength)
            {
                return null;
            }

            result.Append(_text, position, placeholder.Index - position);
            result.Append(value);
            position = placeholder.Index + placeholder.Length;
        }

        return result.Length + (_text.Length - position) <= maxLength
            ? result.Append(_text, position, _text.Length - position).ToString()
            : null;
    }

    [GeneratedRegex(@"\{\{\s*(?<name>[A-Za-z0-9_-]{1,64})\s*\}\}")]
    private static partial Regex Placeholder();
}
