using System.Text.RegularExpressions;
using Gateway.Chat;

namespace Gateway.Tests.Chat;

public sealed partial class CompletionIdsTests
{
    [Fact]
    public void Next_GivesOpenAiShapedIds_ThatNeverRepeat_AcrossManyDraws()
    {
        var ids = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < 100_000; i++)
        {
            var id = CompletionIds.Next();
            Assert.Matches(Shape(), id);
            Assert.True(ids.Add(id), $"{id} came twice");
        }
    }

    [Fact]
    public void Next_SharesNothingBetweenTwoIds_NeitherAPrefixNorACount()
    {
        // All 32 digits are random: no part tells which process answered or how many ids came before.
        var first = CompletionIds.Next()["chatcmpl-".Length..];
        var second = CompletionIds.Next()["chatcmpl-".Length..];
        Assert.True(first[..16].Zip(second[..16]).Count(pair => pair.First != pair.Second) > 4, $"{first} then {second}");
        Assert.True(first[16..].Zip(second[16..]).Count(pair => pair.First != pair.Second) > 4, $"{first} then {second}");
    }

    [GeneratedRegex("^chatcmpl-[0-9a-f]{32}$")]
    private static partial Regex Shape();
}
