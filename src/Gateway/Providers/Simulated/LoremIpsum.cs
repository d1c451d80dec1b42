namespace Gateway.Providers.Simulated;

internal static class LoremIpsum
{
    private static readonly string[] Words =
    [
        "Lorem", "ipsum", "dolor", "sit", "amet,", "consectetur", "adipiscing", "elit,", "sed", "do", "eiusmod",
        "tempor", "incididunt", "ut", "labore", "et", "dolore", "magna", "aliqua.", "Ut", "enim", "ad", "minim",
        "veniam,", "quis", "nostrud", "exercitation", "ullamco", "laboris", "nisi", "ut", "aliquip", "ex", "ea",
        "commodo", "consequat.", "Duis", "aute", "irure", "dolor", "in", "reprehenderit", "in", "voluptate",
        "velit", "esse", "cillum", "dolore", "eu", "fugiat", "nulla", "pariatur.",
    ];

    private static readonly string[] SpacedWords = Array.ConvertAll(Words, word => " " + word);

    /// <summary>The token at <paramref name="index"/>: the words cycle, each after a space but the first.</summary>
    public static string Token(int index)
    {
        var i = index % Words.Length;
        return index == 0 ? Words[i] : SpacedWords[i];
    }
}
