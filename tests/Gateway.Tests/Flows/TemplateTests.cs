using Gateway.Flows;

namespace Gateway.Tests.Flows;

public sealed class TemplateTests
{
    private static readonly Dictionary<string, string> Values = new() { ["name"] = "Ada", ["lang"] = "French", ["a-b_c"] = "ok" };

    [Theory]
    [InlineData("Hello {{name}}!", "Hello Ada!")]
    [InlineData("{{ name }} and {{name}}", "Ada and Ada")]
    [InlineData("{{name}}{{lang}}", "AdaFrench")]
    [InlineData("no placeholders", "no placeholders")]
    [InlineData("{{a-b_c}}", "ok")]
    [InlineData("{{not a name}} {name} {{}}", "{{not a name}} {name} {{}}")]
    [InlineData("{{{name}}}", "{Ada}")]
    [InlineData("", "")]
    public void Render_ReplacesEveryPlaceholderAndLeavesOtherBracesAlone(string text, string expected)
    {
        Assert.Equal(expected, Template.Parse(text).Render(name => Values[name]));
    }

    [Fact]
    public void Names_AreDistinctInOrderOfFirstUse()
    {
        Assert.Equal(["lang", "name"], Template.Parse("{{lang}} {{ name }} {{lang}}").Names);
    }

    [Theory]
    [InlineData("{{name}}-{{name}}", 7, "Ada-Ada")]
    [InlineData("{{name}}-{{name}}", 6, null)]
    [InlineData("{{name}}-{{name}}!", 7, null)]
    [InlineData("no placeholders", 15, "no placeholders")]
    [InlineData("no placeholders", 14, null)]
    public void Render_LongerThanTheLimit_IsNull(string text, int maxLength, string? expected)
    {
        Assert.Equal(expected, Template.Parse(text).Render(name => Values[name], maxLength));
    }

    [Fact]
    public void Render_PastTheLimit_StopsBeforeReadingTheRest()
    {
        var read = new List<string>();

        var rendered = Template.Parse("{{name}}{{lang}}{{a-b_c}}").Render(
            name =>
            {
                read.Add(name);
                return new string('x', 10);
            },
            15);

        Assert.Null(rendered);
        Assert.Equal(["name", "lang"], read);
    }

    [Fact]
    public void Render_DoesNotReadValuesAsTemplates()
    {
        Assert.Equal("say {{lang}}", Template.Parse("say {{name}}").Render(_ => "{{lang}}"));
    }
}
