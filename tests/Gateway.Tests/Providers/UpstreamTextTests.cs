using Gateway.Providers;

namespace Gateway.Tests.Providers;

/// <summary>
/// An upstream's words as they are passed on and logged: bounded, their control characters escaped, the same however
/// often they pass (a streamed failure passes two translators). The first version escaped after cutting: 5,000 control
/// characters came back as 24,600, and a second pass cut an escape in two (found by the review of 2026-12-06, night).
/// </summary>
public sealed class UpstreamTextTests
{
    public static TheoryData<string> Texts => new()
    {
        "plain words",
        "line one\nline two\ttabbed",
        "x\r\ninfo: FORGED \u001b[31mPWNED\u0007",
        new string('\u0001', 5000),
        new string('\u001b', 4100),
        new string('a', 4095) + "😀" + new string('b', 200),
        new string('a', 4093) + "\u0001" + new string('b', 200),
        new string('x', 3_000_000),
    };

    [Theory]
    [MemberData(nameof(Texts))]
    public void APassedText_IsBoundedAndFreeOfControlCharacters_AndPassingItAgainChangesNothing(string text)
    {
        var once = UpstreamText.Passable(text);

        Assert.InRange(once.Length, 0, UpstreamText.MaxLength + 64);
        Assert.DoesNotContain(once, c => char.IsControl(c) && c is not '\n' and not '\t');
        Assert.Equal(once, UpstreamText.Passable(once));
        Assert.False(char.IsHighSurrogate(once[^1]) || once.Contains("\ud83d…", StringComparison.Ordinal), "a surrogate pair was cut in two");
    }

    [Fact]
    public void ACutText_EndsBeforeAnEscapeItWouldSplit_AndCountsWhatItLeftOut_Escaped()
    {
        // 4,093 letters, then a control character's six-character escape across the cut at 4,096.
        var text = new string('a', 4093) + "\u0001" + new string('b', 200);

        Assert.Equal(new string('a', 4093) + "… (206 more characters)", UpstreamText.Passable(text));
    }

    [Fact]
    public void ATextWithNothingToChange_IsTheSameInstance()
    {
        const string text = "The model 'x' does not exist.";

        Assert.Same(text, UpstreamText.Passable(text));
    }
}
