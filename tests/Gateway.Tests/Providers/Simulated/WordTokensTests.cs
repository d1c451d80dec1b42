using Gateway.Providers.Simulated;

namespace Gateway.Tests.Providers.Simulated;

public sealed class WordTokensTests
{
    [Theory]
    [InlineData("", new string[0])]
    [InlineData("word", new[] { "word" })]
    [InlineData("Hello, world!", new[] { "Hello,", " world!" })]
    [InlineData("  lead", new[] { "  lead" })]
    [InlineData("trail  ", new[] { "trail  " })]
    [InlineData("a\n\nb c ", new[] { "a", "\n\nb", " c " })]
    [InlineData("   ", new[] { "   " })]
    public void Split_KeepsWhitespaceSoTheTokensConcatenateToTheText(string text, string[] expected)
    {
        var tokens = WordTokens.Split(text);

        Assert.Equal(expected, tokens);
        Assert.Equal(text, string.Concat(tokens));
    }

    [Theory]
    [InlineData(null, 0)]
    [InlineData("", 0)]
    [InlineData("   ", 0)]
    [InlineData("one", 1)]
    [InlineData(" one\ttwo\nthree ", 3)]
    public void Count_CountsWhitespaceSeparatedWords(string? text, int expected) =>
        Assert.Equal(expected, WordTokens.Count(text));
}
