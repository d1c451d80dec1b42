using System.Text.RegularExpressions;
using Gateway.Chat;

namespace Gateway.Tests.Chat;

public sealed partial class CompletionIdsTests
{
    [Fact]
    public void Next_GivesOpenAiShapedIds_ThatNeverRepeat()
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
    public void Next_DoesNotCountOpenly()
    {
        // Two ids in a row differ in far more than the last digit: an id tells no one how many came before it.
        var first = CompletionIds.Next()[^16..];
        var second = CompletionIds.Next()[^16..];
        Assert.True(first.Zip(second).Count(pair => pair.First != pair.Second) > 4, $"{first} then {second}");
    }

    [GeneratedRegex("^chatcmpl-[0-9a-f]{32}$")]
    private static partial Regex Shape();
}
