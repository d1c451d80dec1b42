using Gateway.Providers.Simulated;

namespace Gateway.Tests.Providers.Simulated;

public sealed class StopSequenceCutterTests
{
    /// <summary>What is sent of the tokens, and whether a sequence stopped them.</summary>
    private static (string Sent, bool Stopped) Cut(string[] stops, params string[] tokens)
    {
        var cutter = StopSequenceCutter.For(stops)!;
        var sent = "";
        foreach (var token in tokens)
        {
            sent += cutter.Take(token, out var stopped);
            if (stopped)
            {
                return (sent, true);
            }
        }

        return (sent + cutter.Rest, false);
    }

    [Theory]
    [InlineData(new[] { "aab" }, new[] { "xaa", "ab yy" }, "xa")] // the sequence overlaps itself: "aaab" holds it from its second a
    [InlineData(new[] { "abcd", "bc" }, new[] { "a", "bcd" }, "a")] // the first to be complete stops the text, where it begins
    [InlineData(new[] { "c", "abc" }, new[] { "abc" }, "")] // two complete at once: the longer began first
    [InlineData(new[] { "", "three" }, new[] { "one", " two", " three" }, "one two ")] // an empty sequence is ignored, not all of them
    [InlineData(new[] { "END" }, new[] { "EN", "D" }, "")] // at the very start, across tokens
    [InlineData(new[] { "é🙂" }, new[] { "café", "🙂 ok" }, "caf")] // UTF-16 surrogate pairs are matched whole
    public void StopsWhereTheFirstCompleteSequenceBegins(string[] stops, string[] tokens, string expected)
    {
        Assert.Equal((expected, true), Cut(stops, tokens));
    }

    [Fact]
    public void TextThatOnlyBeganASequence_IsSentInFull()
    {
        Assert.Equal(("one two thr", false), Cut(["three"], "one", " two", " thr"));
    }

    [Fact]
    public void NoSequenceButEmptyOnes_IsNoCutter()
    {
        Assert.Null(StopSequenceCutter.For(["", ""]));
        Assert.Null(StopSequenceCutter.For(null));
    }

    [Fact]
    public void ALongSequenceTheTextKeepsBeginning_HoldsBackOnlyWhatCouldBeginIt()
    {
        // 200,000 characters that the text keeps beginning. (A matcher that compared every held end with every prefix
        // did ~10^10 comparisons a token here, which a caller could send to stall a core; this reads each character once.)
        var stop = new string('a', 200_000) + "!";
        var cutter = StopSequenceCutter.For([stop])!;
        var token = new string('a', 1_000);
        var sent = 0;
        for (var i = 0; i < 300; i++)
        {
            sent += cutter.Take(token, out _).Length;
        }

        Assert.Equal(300_000 - 200_000, sent);
        Assert.Equal(200_000, cutter.Rest.Length);
    }
}
