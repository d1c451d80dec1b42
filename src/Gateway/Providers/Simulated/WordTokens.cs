namespace Gateway.Providers.Simulated;

/// <summary>Splits text into word tokens the way a model streams them: each token is a word with the whitespace before it.</summary>
internal static class WordTokens
{
    /// <summary>
    /// Tokens whose concatenation is exactly <paramref name="text"/>: leading whitespace joins the first word and
    /// trailing whitespace joins the last, so no token is whitespace alone unless the text is.
    /// </summary>
    public static List<string> Split(string text)
    {
        var tokens = new List<string>();
        var start = 0;
        var i = 0;
        while (i < text.Length)
        {
            while (i < text.Length && char.IsWhiteSpace(text[i]))
            {
                i++;
            }

            while (i < text.Length && !char.IsWhiteSpace(text[i]))
            {
                i++;
            }

            tokens.Add(text[start..i]);
            start = i;
        }

        if (tokens.Count > 1 && string.IsNullOrWhiteSpace(tokens[^1]))
        {
            tokens[^2] += tokens[^1];
            tokens.RemoveAt(tokens.Count - 1);
        }

        return tokens;
    }

    /// <summary>Whitespace-separated words, the simulated provider's unit of usage.</summary>
    public static int Count(string? text)
    {
        var inWord = false;
        return Count(text, ref inWord);
    }

    /// <summary>
    /// Words that begin in <paramref name="text"/>, which continues text that ended inside a word when
    /// <paramref name="inWord"/> is true: pieces of one text counted one after another count as the whole does.
    /// </summary>
    public static int Count(string? text, ref bool inWord)
    {
        if (string.IsNullOrEmpty(text))
        {
            return 0;
        }

        var count = 0;
        foreach (var c in text)
        {
            var isWordChar = !char.IsWhiteSpace(c);
            if (isWordChar && !inWord)
            {
                count++;
            }

            inWord = isWordChar;
        }

        return count;
    }
}
